#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sends hand-made ICMP (and ESP) over raw sockets, for the ICMP scenario
(test code; the kernel adds the outer IPv4 header, from SRC if given).

    icmp_raw.py reply DST ID [--src SRC]
        an echo reply (type 0) with identifier ID that nothing asked for
    icmp_raw.py error DST TYPE CODE QSRC QDST QPROTO A B [options]
        an error quoting a packet QSRC -> QDST of protocol QPROTO (udp,
        tcp, icmp, esp): A and B are the source and destination ports
        (udp, tcp), the ICMP type and identifier (icmp), or the SPI and
        sequence number (esp). Options:
          --src SRC         the error's source address
          --quoted-len N    quote only N bytes of the quoted payload
          --bad-checksum    a wrong quoted IPv4 header checksum
    --dropped (any command): the sender's own netfilter hooks are expected to
    drop the message, so sendto() failing with EPERM is success and a
    message that leaves is an error (exit 1)
    icmp_raw.py esp DST SPI --ttl N [--src SRC]
        one ESP packet with TTL N (an error about it quotes the SA)
"""
import argparse
import socket
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def icmp(t, code, rest):
    m = struct.pack("!BBH", t, code, 0) + rest
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def quoted(a):
    protos = {"udp": 17, "tcp": 6, "icmp": 1, "esp": 50}
    p = protos[a.qproto]
    if a.qproto == "udp":
        body = struct.pack("!HHHH", a.a, a.b, 8 + 16, 0) + bytes(16)
    elif a.qproto == "tcp":
        body = struct.pack("!HHIIBBHHH", a.a, a.b, 1, 0, 0x50, 0x02, 65535, 0, 0)
    elif a.qproto == "icmp":
        body = icmp(a.a, 0, struct.pack("!HH", a.b, 1) + bytes(16))
    else:
        body = struct.pack("!II", a.a, a.b) + bytes(16)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0x1234, 0x4000, 1, p, 0,
                      socket.inet_aton(a.qsrc), socket.inet_aton(a.qdst))
    c = csum(hdr) ^ (0x5555 if a.bad_checksum else 0)
    hdr = hdr[:10] + struct.pack("!H", c) + hdr[12:]
    if a.quoted_len is not None:
        body = body[: a.quoted_len]
    return hdr + body


def send(proto, dst, payload, src=None, ttl=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
    if src:
        s.bind((src, 0))
    if ttl:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    try:
        s.sendto(payload, (dst, 0))
    except PermissionError:
        # NF_DROP in the output path reaches a raw socket as EPERM.
        if a.dropped:
            return
        raise
    if a.dropped:
        sys.exit("icmp_raw.py: the message left, but it should have been dropped")


ap = argparse.ArgumentParser()
sub = ap.add_subparsers(dest="cmd", required=True)
r = sub.add_parser("reply")
r.add_argument("dst")
r.add_argument("id", type=int)
r.add_argument("--src")
e = sub.add_parser("error")
for f in ("dst", "type", "code", "qsrc", "qdst", "qproto", "a", "b"):
    e.add_argument(f, type=(lambda v: int(v, 0)) if f in ("type", "code", "a", "b") else str)
e.add_argument("--src")
e.add_argument("--quoted-len", type=int)
e.add_argument("--bad-checksum", action="store_true")
x = sub.add_parser("esp")
x.add_argument("dst")
x.add_argument("spi", type=lambda v: int(v, 0))
x.add_argument("--ttl", type=int, required=True)
x.add_argument("--src")
for p in (r, e, x):
    p.add_argument("--dropped", action="store_true")
a = ap.parse_args()
if a.cmd == "reply":
    send(1, a.dst, icmp(0, 0, struct.pack("!HH", a.id, 1) + b"unsolicited"), a.src)
elif a.cmd == "error":
    send(1, a.dst, icmp(a.type, a.code, bytes(4) + quoted(a)), a.src)
else:
    send(50, a.dst, struct.pack("!II", a.spi, 1) + bytes(32), a.src, a.ttl)
