#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Asks the router for PER one-port blocks from each of the source
addresses FIRST..LAST (10.0.0.FIRST ...), authenticated PAP requests over
raw ICMP sockets (a key exchange per address first), paced, without
waiting for the answers. Test code: fills the tables with thousands of
blocks, or floods one host's request budget.

    pap_flood.py ROUTER FIRST LAST PER
"""
import os
import socket
import struct
import sys
import time

from pap_auth import Session, with_checksum

router, first, last, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for a in range(first, last + 1):
    host = "10.0.0.%d" % a
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.bind((host, 0))
    session = Session(s, host, router)
    session.get_key()
    for _ in range(per):
        xid = struct.unpack("!I", os.urandom(4))[0] | 1
        plain = with_checksum(struct.pack("!BBHB3xIII", 32, 1, 0, 1, xid, 0, 0))
        s.sendto(session.sealed(plain), (router, 0))
        time.sleep(0.003)
    s.close()
