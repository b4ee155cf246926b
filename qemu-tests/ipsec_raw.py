#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sends COUNT ESP or AH packets with a given SPI to DST over a raw IP
socket (test code: the payload is not a real SA's, only the SPI matters).

    ipsec_raw.py DST esp|ah SPI COUNT
"""
import socket
import struct
import sys

dst, kind, spi, count = sys.argv[1], sys.argv[2], int(sys.argv[3], 0), int(sys.argv[4])
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
