#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Test code for ICMP errors seen by sockets.

    udp_probe.py refused DST PORT
        one datagram on a connected UDP socket, then a receive: prints
        "refused" (ECONNREFUSED: a port unreachable reached the socket),
        "data" or "timeout" (5 s)
    udp_probe.py pmtu DST PORT SIZE
        a SIZE-byte datagram with DF set (IP_PMTU_DISCOVER do), a second
        after a second; prints the path MTU the socket then knows (IP_MTU)
        and "emsgsize" if the second send was refused as too big
"""
import socket
import sys
import time

IP_MTU_DISCOVER, IP_PMTUDISC_DO, IP_MTU = 10, 2, 14

mode, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
if mode == "pmtu":
    s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
s.connect((dst, port))
if mode == "refused":
    s.send(b"probe")
    try:
        s.recv(100)
        print("data")
    except ConnectionRefusedError:
        print("refused")
    except socket.timeout:
        print("timeout")
    sys.exit(0)
size = int(sys.argv[4])
s.send(bytes(size))
time.sleep(1)
out = []
try:
    s.send(bytes(size))
except OSError as e:
    out.append("emsgsize" if e.errno == 90 else "error %d" % e.errno)
out.insert(0, str(s.getsockopt(socket.IPPROTO_IP, IP_MTU)))
print(" ".join(out))
