#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sends one raw generic netlink request, to test what dnatctl cannot send.

    genl_raw.py FAMILY CMD [TYPE:KIND:VALUE ...]

KIND is u8, u16, u32, u64, str (NUL-terminated) or hex (raw bytes, VALUE
in hex digits: 01005e000001). Prints "ok" or "errno N MESSAGE" (the
extended ack message, if any). Test code only: dnatctl uses netlink crates.
"""
import os
import socket
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
SOL_NETLINK, NETLINK_EXT_ACK = 270, 11
NLMSGERR_ATTR_MSG = 1


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def request(s, seq, family, cmd, attrs, version=1):
    """Sends a request with NLM_F_ACK; returns its messages up to the ack."""
    body = struct.pack("=BBH", cmd, version, 0) + b"".join(attrs)
    s.send(struct.pack("=IHHII", 16 + len(body), family, NLM_F_REQUEST | NLM_F_ACK, seq, 0) + body)
    msgs = []
    while True:
        data = s.recv(65536)
        while len(data) >= 16:
            ln, typ, flags, mseq, _ = struct.unpack("=IHHII", data[:16])
            if mseq == seq:
                msgs.append((typ, flags, data[16:ln]))
                if typ == NLMSG_ERROR:
                    return msgs
            data = data[(ln + 3) & ~3:]


def parse_attrs(b):
    out = {}
    while len(b) >= 4:
        n, t = struct.unpack("=HH", b[:4])
        if n < 4:
            break
        out[t & 0x3FFF] = b[4:n]
        b = b[(n + 3) & ~3:]
    return out


def error_of(msgs):
    for typ, flags, payload in msgs:
        if typ == NLMSG_ERROR:
            err = -struct.unpack("=i", payload[:4])[0]
            rest = payload[4:]
            # Echoed request: the header only if capped (0x100), else all of it.
            echoed = 16 if flags & 0x100 else struct.unpack("=I", rest[:4])[0]
            tlvs = parse_attrs(rest[(echoed + 3) & ~3:]) if flags & 0x200 else {}
            msg = tlvs.get(NLMSGERR_ATTR_MSG, b"").rstrip(b"\0").decode()
            return err, msg
    return None, ""


def main():
    name, cmd = sys.argv[1], int(sys.argv[2])
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    s.bind((0, 0))
    msgs = request(s, 1, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, [attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0")])
    fam = None
    for typ, _, payload in msgs:
        if typ == GENL_ID_CTRL:
            fam = struct.unpack("=H", parse_attrs(payload[4:])[CTRL_ATTR_FAMILY_ID][:2])[0]
    if fam is None:
        print("errno %d no family" % error_of(msgs)[0])
        return
    attrs = []
    for spec in sys.argv[3:]:
        t, kind, value = spec.split(":", 2)
        fmt = {"u8": "=B", "u16": "=H", "u32": "=I", "u64": "=Q"}.get(kind)
        if fmt:
            payload = struct.pack(fmt, int(value, 0))
        elif kind == "hex":
            payload = bytes.fromhex(value)
        else:
            payload = value.encode() + b"\0"
        attrs.append(attr(int(t), payload))
    err, msg = error_of(request(s, 2, fam, cmd, attrs))
    print("ok" if not err else ("errno %d %s" % (err, msg)).strip())


if __name__ == "__main__":
    main()
