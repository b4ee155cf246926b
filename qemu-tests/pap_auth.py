# SPDX-License-Identifier: GPL-2.0
"""Authenticated PAP for the test tools (pap_flood.py, pap_forge.py): the
key exchange (36/3) and sealing, as Documentation/networking/dnat-pap.rst
("Authentication") describes them, written from that text and not from
the Rust code, so that the tests check the document too. Test code only.
"""
import os
import select
import socket
import struct
import time

M64 = (1 << 64) - 1


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & M64


def siphash(key, data):
    """SipHash-2-4 of bytes `data` under the 16-byte `key` (an int)."""
    k0, k1 = struct.unpack("<QQ", key)
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D,
         k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def rnd():
        v[0] = (v[0] + v[1]) & M64
        v[1] = _rotl(v[1], 13) ^ v[0]
        v[0] = _rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & M64
        v[3] = _rotl(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & M64
        v[3] = _rotl(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & M64
        v[1] = _rotl(v[1], 17) ^ v[2]
        v[2] = _rotl(v[2], 32)

    n = len(data)
    tail = data[n - n % 8:] + bytes(8 - n % 8)
    words = [struct.unpack("<Q", data[i:i + 8])[0] for i in range(0, n - n % 8, 8)]
    last = struct.unpack("<Q", tail[:7] + bytes([n & 0xFF]))[0]
    for m in words + [last]:
        v[3] ^= m
        rnd()
        rnd()
        v[0] ^= m
    v[2] ^= 0xFF
    for _ in range(4):
        rnd()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def with_checksum(m):
    m = m[:2] + b"\0\0" + m[4:]
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def _two(key, d, host, key_id):
    a = socket.inet_aton(host) + struct.pack("!I", key_id)
    return (struct.pack("<Q", siphash(key, bytes([d]) + a))
            + struct.pack("<Q", siphash(key, bytes([d + 1]) + a)))


def unwrap(wrapped, half, host, key_id):
    pad = _two(half, 0x12, host, key_id)
    return bytes(a ^ b for a, b in zip(wrapped, pad))


def mac(key, to_host, host, msg):
    """The MAC of sealed message `msg` (its MAC field is not read)."""
    body = msg[:2] + b"\0\0" + msg[4:-8]
    return struct.pack("<Q", siphash(key, bytes([2 if to_host else 1])
                                     + socket.inet_aton(host) + body))


def seal(key, key_id, seq, host, plain):
    """`plain` (a PAP message with trailer) followed by its auth block."""
    m = plain + struct.pack("!II", key_id, seq) + bytes(8)
    m = m[:-8] + mac(key, False, host, m)
    return with_checksum(m)


class Session:
    """One host's key towards the router, over raw socket `sock` bound
    to `host`."""

    def __init__(self, sock, host, router):
        self.sock, self.host, self.router = sock, host, router
        self.key = None
        self.key_id = 0
        self.seq = 0

    def recv(self, timeout, want):
        """The first PAP payload from the router to us for which
        `want(payload)` holds, or None."""
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return None
            d = self.sock.recv(2048)
            hl = (d[0] & 15) * 4
            src, dst = socket.inet_ntoa(d[12:16]), socket.inet_ntoa(d[16:20])
            if src == self.router and dst == self.host and want(d[hl:]):
                return d[hl:]

    def get_key(self, tries=5):
        half = os.urandom(16)
        xid = struct.unpack("!I", os.urandom(4))[0] | 1
        req = with_checksum(struct.pack("!BBHI", 36, 3, 0, 0) + half
                            + struct.pack("!III", xid, 0, 0))
        for _ in range(tries):
            self.sock.sendto(req, (self.router, 0))
            g = self.recv(1.0, lambda p: p[:2] == b"\x24\x03"
                          and len(p) == 52 and p[24:28] == struct.pack("!I", xid))
            if g is None:
                continue
            key_id = struct.unpack("!I", g[4:8])[0]
            key = unwrap(g[8:24], half, self.host, key_id)
            if mac(key, True, self.host, g) != g[-8:]:
                raise SystemExit("key grant with a bad MAC")
            self.key, self.key_id = key, key_id
            return
        raise SystemExit("no key grant from " + self.router)

    def sealed(self, plain):
        self.seq += 1
        return seal(self.key, self.key_id, self.seq, self.host, plain)

    def opens(self, payload):
        """Whether `payload` is sealed with our key and its MAC is right."""
        return (self.key is not None and len(payload) >= 24
                and struct.unpack("!I", payload[-16:-12])[0] == self.key_id
                and mac(self.key, True, self.host, payload) == payload[-8:])
