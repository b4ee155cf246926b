#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Asks the router for PER one-port blocks from each of the source
addresses FIRST..LAST (10.0.0.FIRST ...), base PAP requests over raw ICMP
sockets, paced. Test code: fills the tables with thousands of blocks.

    pap_flood.py ROUTER FIRST LAST PER
"""
import socket
import struct
import sys
import time


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


router, first, last, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
m = struct.pack("!BBHB3x", 32, 1, 0, 1)
m = m[:2] + struct.pack("!H", csum(m)) + m[4:]
for a in range(first, last + 1):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.bind(("10.0.0.%d" % a, 0))
    for _ in range(per):
        s.sendto(m, (router, 0))
        time.sleep(0.003)
    s.close()
