#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sends one IP-in-IP packet (IPv4 protocol 4) whose payload is a chosen,
possibly malformed, inner packet. Test code for the host module's inbound
checks.

    ipip_raw.py [--trailer N] [--overlong N] DST KIND

--trailer N puts N bytes of garbage after the inner packet (inside the
outer packet); --overlong N makes the inner header claim N bytes more
than the inner packet has.

KIND:
  truncated   an inner IPv4 header cut after 12 bytes
  not-ipv4    an inner packet whose version nibble is 6
  udp SRC DPORT PAYLOAD
              a well-formed inner UDP datagram SRC:9999 -> 203.0.113.30:DPORT
  from-public SPORT DST DPORT PAYLOAD
              a well-formed inner UDP datagram 203.0.113.30:SPORT -> DST:DPORT
              (what a host tunnels to the router; with somebody else's
              port, a spoofing attempt)
"""
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


def ipv4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload) + overlong, 1, 0, 64,
                    proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


trailer = overlong = 0
args = sys.argv[1:]
while args and args[0].startswith("--"):
    if args[0] == "--trailer":
        trailer = int(args[1])
    elif args[0] == "--overlong":
        overlong = int(args[1])
    else:
        sys.exit("unknown option " + args[0])
    args = args[2:]
sys.argv[1:] = args
dst, kind = sys.argv[1], sys.argv[2]
if kind == "truncated":
    inner = ipv4("203.0.113.3", "203.0.113.30", 17, b"x" * 8)[:12]
elif kind == "not-ipv4":
    inner = bytes([0x60]) + b"\0" * 39
elif kind == "udp":
    src, dport, data = sys.argv[3], int(sys.argv[4]), sys.argv[5].encode()
    udp = struct.pack("!HHHH", 9999, dport, 8 + len(data), 0) + data
    inner = ipv4(src, "203.0.113.30", 17, udp)
elif kind == "from-public":
    sport, idst, dport = int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    data = sys.argv[6].encode()
    udp = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    inner = ipv4("203.0.113.30", idst, 17, udp)
else:
    sys.exit("unknown kind " + kind)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 4)
s.sendto(inner + bytes([0xA5]) * trailer, (dst, 0))
