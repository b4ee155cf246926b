#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sends one UDP datagram with a chosen IPv4 source address out of a given
device (IP_HDRINCL), bypassing tunnels. Test code: a host that tries to
reach the Internet with the public address without tunnelling.

    raw_udp.py DEV SRC DST SPORT DPORT PAYLOAD
"""
import socket
import struct
import sys

dev, src, dst, sport, dport, payload = sys.argv[1:7]
data = payload.encode()
udp = struct.pack("!HHHH", int(sport), int(dport), 8 + len(data), 0) + data
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                 socket.inet_aton(src), socket.inet_aton(dst))
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
s.sendto(ip + udp, (dst, 0))
