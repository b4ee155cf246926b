#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Prints, one hex line per packet, the IPv4 packets of an Ethernet pcap
file: with --inner, the packet inside an IP-in-IP packet (the outer IPv4
header removed). Test code: compares what the router received with what
it delivered, byte for byte.

    pcap_inner.py [--inner] FILE
    pcap_inner.py --trailing FILE

With --trailing, prints for each IPv4 packet the number of bytes the frame
holds after the packet's total length instead.
"""
import struct
import sys

inner = sys.argv[1] == "--inner"
trailing = sys.argv[1] == "--trailing"
path = sys.argv[-1]
data = open(path, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
off = 24
while off + 16 <= len(data):
    _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
    frame = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        continue
    ip = frame[14:]
    if inner:
        if ip[9] != 4:
            continue
        ip = ip[(ip[0] & 15) * 4:]
    total = struct.unpack("!H", ip[2:4])[0]
    if trailing:
        print(len(ip) - total)
        continue
    print(ip[:total].hex())
