#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Waits (up to 10 s) for one UDP datagram to PORT on a raw IPv4 socket and
prints how many bytes the packet the stack delivered holds after its IPv4
total length (0 for a well-trimmed packet), or "none". Test code.

    raw_trailer.py PORT
"""
import socket
import struct
import sys
import time

port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
s.settimeout(1)
end = time.time() + 10
while time.time() < end:
    try:
        p = s.recv(65535)
    except socket.timeout:
        continue
    hl = (p[0] & 15) * 4
    if len(p) >= hl + 4 and struct.unpack("!H", p[hl + 2:hl + 4])[0] == port:
        print(len(p) - struct.unpack("!H", p[2:4])[0], flush=True)
        sys.exit(0)
print("none")
