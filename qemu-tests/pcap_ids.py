#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks the IP IDs of the IPv4 packets of an Ethernet pcap file, as a
tunnel's outer headers (DF clear) must have them: a GSO packet, which
becomes several packets on the wire, each with the next ID, must reserve
as many IDs. Prints three numbers: the packets, the GSO packets among
them (over 1500 bytes), and the overlaps: packets whose ID lies less than
the wire segments of the packet before them in ID order after that one's
ID (at least ceil(length / 1500) segments), i.e. IDs used twice on the
wire. Test code; the IDs must span less than half the ID space.

    pcap_ids.py FILE
"""
import struct
import sys

data = open(sys.argv[1], "rb").read()
if len(data) < 24:
    print(0, 0, 0)
    sys.exit(0)
magic = struct.unpack("<I", data[:4])[0]
end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
off = 24
pkts = []
while off + 16 <= len(data):
    _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
    frame = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        continue
    total, ip_id = struct.unpack("!HH", frame[16:20])
    pkts.append((ip_id, total))
if not pkts:
    print(0, 0, 0)
    sys.exit(0)
first = pkts[0][0]
# Unwrapped, relative to the first packet's ID.
ids = sorted(((i - first + 32768) % 65536, t) for i, t in pkts)
gso = sum(1 for _, t in pkts if t > 1500)
overlaps = 0
for (a, ta), (b, _) in zip(ids, ids[1:]):
    if b - a < -(-ta // 1500):
        overlaps += 1
print(len(pkts), gso, overlaps)
