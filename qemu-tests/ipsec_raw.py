#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sends COUNT ESP or AH packets with a given SPI to DST over a raw IP
socket, or ESP in UDP (NAT traversal, RFC 3948) from UDP port 4500 to PORT
(test code: the payload is not a real SA's, only the SPI matters).

    ipsec_raw.py DST esp|ah SPI COUNT
    ipsec_raw.py DST natt SPI COUNT PORT

With natt, SPI 0 sends IKE instead (the four zero bytes of the non-ESP
marker, then a dummy IKE header) and SPI -1 NAT keepalives (one byte 0xff).
"""
import socket
import struct
import sys

dst, kind, spi, count = sys.argv[1], sys.argv[2], int(sys.argv[3], 0), int(sys.argv[4])
if kind == "natt":
    port = int(sys.argv[5])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 4500))
    for seq in range(1, count + 1):
        if spi == -1:
            pkt = b"\xff"
        else:
            pkt = struct.pack("!II", spi, seq) + bytes(range(32))
        s.sendto(pkt, (dst, port))
    sys.exit(0)
proto = 50 if kind == "esp" else 51
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
for seq in range(1, count + 1):
    if kind == "esp":
        pkt = struct.pack("!II", spi, seq) + bytes(range(32))
    else:
        # next header 59 (none), payload length 4 (6 words - 2), reserved,
        # SPI, sequence, 12 bytes of ICV.
        pkt = struct.pack("!BBHII", 59, 4, 0, spi, seq) + bytes(12)
    s.sendto(pkt, (dst, 0))
