#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sends one hand-made PAP message over a raw ICMP socket, to test what a
well-behaved client (dnatctl pap) never sends. Test code only.

    pap_raw.py DST KIND [SRC]

KIND: request (a valid port request, 16 high ports, no trailer),
bad-checksum, truncated, wrong-code, zero-count, too-long.
"""
import socket
import struct
import sys

from pap_auth import csum


def msg(ty, code, body):
    m = struct.pack("!BBH", ty, code, 0) + body
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def build(kind):
    req = msg(32, 1, struct.pack("!B3x", 16))
    if kind == "request":
        return req
    if kind == "bad-checksum":
        return req[:2] + struct.pack("!H", (struct.unpack("!H", req[2:4])[0] ^ 0x5555)) + req[4:]
    if kind == "truncated":
        return msg(32, 1, struct.pack("!BB", 16, 0))
    if kind == "wrong-code":
        return msg(32, 9, struct.pack("!B3x", 16))
    if kind == "zero-count":
        return msg(32, 1, struct.pack("!B3x", 0))
    if kind == "too-long":
        return msg(32, 1, struct.pack("!B3x", 16) + bytes(40))
    raise SystemExit("unknown kind " + kind)


def main():
    dst, kind = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    if len(sys.argv) > 3:
        s.bind((sys.argv[3], 0))
    s.sendto(build(kind), (dst, 0))


if __name__ == "__main__":
    main()
