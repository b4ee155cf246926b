#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Waits (up to 30 s: a debug kernel under TCG is slow) for one UDP datagram to PORT on a socket bound to
device DEV (SO_BINDTODEVICE) and prints its payload and the ingress
interface index IP_PKTINFO gives, or "none". Test code.

    udp_bound_recv.py DEV PORT
"""
import socket
import struct
import sys

# Linux's IP_PKTINFO (Python's socket module does not name it everywhere).
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
dev, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
s.bind(("0.0.0.0", port))
s.settimeout(30)
try:
    data, anc, _, _ = s.recvmsg(2048, socket.CMSG_SPACE(12))
except socket.timeout:
    print("none")
    sys.exit(0)
ifindex = 0
for level, kind, d in anc:
    if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
        ifindex = struct.unpack("i", d[:4])[0]
print(data.decode(errors="replace"), ifindex)
