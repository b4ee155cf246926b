#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A UDP echo server that answers every datagram to its sender (unlike
`socat UDP-LISTEN,fork`, which binds a child to the first peer and can
hand it another peer's datagram queued in between). Test code.

    udp_echo.py PORT [ADDR]

ADDR (default any) is the address to bind: answers then come from it.
"""
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[2] if len(sys.argv) > 2 else "0.0.0.0", int(sys.argv[1])))
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
