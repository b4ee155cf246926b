#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sends hand-made Ethernet frames through an AF_PACKET socket on DEV:
chosen source and destination MACs (a forger's own, or somebody else's),
an IPv4 packet with chosen addresses, checksums right. Test code: what
the routing of the sender's stack would never send (the public source to
the router's second port, another host's MAC) and what a host on the LAN
segment can send to another host's MAC directly.

    raw_eth.py [--count N] DEV SRCMAC DSTMAC SRC DST udp SPORT DPORT [PAYLOAD]
    raw_eth.py [--count N] DEV SRCMAC DSTMAC SRC DST tcp SPORT DPORT
        a TCP SYN (sequence number 0x1000 + the frame's index)
    raw_eth.py [--count N] DEV SRCMAC DSTMAC SRC DST icmp ID [--reply]
        an ICMP echo request with identifier ID (an echo reply with
        --reply), sequence numbers 1 to N
    raw_eth.py [--count N] DEV SRCMAC DSTMAC SRC DST esp SPI
        ESP with SPI, sequence numbers 1 to N, 32 bytes of dummy payload

--count N sends N frames (default 1). Prints "sent N".
"""
import argparse
import socket
import struct

from pap_auth import csum


def mac(text):
    b = bytes(int(x, 16) for x in text.split(":"))
    if len(b) != 6:
        raise argparse.ArgumentTypeError("not a MAC address: " + text)
    return b


def l4_checksum(proto, seg):
    pseudo = socket.inet_aton(a.src) + socket.inet_aton(a.dst) + struct.pack("!BBH", 0, proto, len(seg))
    return csum(pseudo + seg)


def payload(i):
    """The IP protocol and the payload of the I-th frame."""
    if a.kind == "udp":
        data = (a.payload or "raw-eth").encode()
        seg = struct.pack("!HHHH", a.sport, a.dport, 8 + len(data), 0) + data
        c = l4_checksum(17, seg) or 0xFFFF
        return 17, seg[:6] + struct.pack("!H", c) + seg[8:]
    if a.kind == "tcp":
        # 20-byte header, flags SYN, window 65535.
        seg = struct.pack("!HHIIBBHHH", a.sport, a.dport, 0x1000 + i, 0, 5 << 4, 0x02, 65535, 0, 0)
        return 6, seg[:16] + struct.pack("!H", l4_checksum(6, seg)) + seg[18:]
    if a.kind == "icmp":
        m = struct.pack("!BBHHH", 0 if a.reply else 8, 0, 0, a.id, i + 1) + b"raw-eth-icmp"
        return 1, m[:2] + struct.pack("!H", csum(m)) + m[4:]
    return 50, struct.pack("!II", a.spi, i + 1) + bytes(range(32))


ap = argparse.ArgumentParser()
ap.add_argument("--count", type=int, default=1)
ap.add_argument("dev")
ap.add_argument("srcmac", type=mac)
ap.add_argument("dstmac", type=mac)
ap.add_argument("src")
ap.add_argument("dst")
sub = ap.add_subparsers(dest="kind", required=True)
for k in ("udp", "tcp"):
    p = sub.add_parser(k)
    p.add_argument("sport", type=int)
    p.add_argument("dport", type=int)
    if k == "udp":
        p.add_argument("payload", nargs="?")
p = sub.add_parser("icmp")
p.add_argument("id", type=int)
p.add_argument("--reply", action="store_true")
p = sub.add_parser("esp")
p.add_argument("spi", type=lambda v: int(v, 0))
a = ap.parse_args()

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((a.dev, 0))
for i in range(a.count):
    proto, l4 = payload(i)
    # DF set, TTL 64, a fresh IP ID per frame.
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0x2000 + i, 0x4000, 64, proto, 0,
                     socket.inet_aton(a.src), socket.inet_aton(a.dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s.send(a.dstmac + a.srcmac + b"\x08\x00" + ip + l4)
print("sent", a.count)
