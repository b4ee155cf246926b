#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sends COUNT UDP datagrams of SIZE payload bytes to DST PORT from one
socket, one after the other. With --echo each must come back unchanged
(an echo server) within 5 s before the next is sent. Prints
"sent N echoed M". Test code: traffic whose packets and bytes are known
(each datagram is an IPv4 packet of 28 + SIZE bytes).

    udp_count.py DST PORT COUNT SIZE [--echo]
"""
import socket
import sys

dst, port, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
echo = "--echo" in sys.argv[5:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.connect((dst, port))
echoed = 0
for i in range(count):
    data = bytes((i + j) % 256 for j in range(size))
    s.send(data)
    if echo:
        try:
            if s.recv(65535) == data:
                echoed += 1
        except socket.timeout:
            pass
print(f"sent {count} echoed {echoed}")
