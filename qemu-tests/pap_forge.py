#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""PAP that a LAN attacker sends, for the authentication tests. Test code.

    pap_forge.py as-host ROUTER VICTIM KEYID PORT COUNT SPI SPICOUNT PEER
        every kind of host message (requests, renewals, releases, SA and
        blacklist notices, invalidate-all) with VICTIM's source address,
        once plain and once sealed with a random key under key id KEYID;
        prints "sent N"
    pap_forge.py as-router ROUTER VICTIM
        router messages to VICTIM with ROUTER's source address: plain
        invalidate-all (unicast and broadcast), a plain grant and a plain
        refusal carrying a new epoch, a sealed invalidate-all under a random
        key; prints "sent N"
    pap_forge.py replay PCAP ROUTER
        sends again every PAP message to ROUTER captured in PCAP, from its
        captured source; prints "sent N"
    pap_forge.py retransmit ROUTER HOST
        from HOST: gets a key, sends one sealed 4-port request twice, one
        second apart; prints the number of sealed answers (2 expected)
"""
import os
import socket
import struct
import sys
import time

from pap_auth import Session, seal, with_checksum


def ip_packet(src, dst, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 1, 1, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h + payload


def spoofer():
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    return s


def xid():
    return struct.unpack("!I", os.urandom(4))[0] | 1


def host_messages(port, count, spi, spicount, peer):
    """Every message a host sends, with the trailer."""
    t = lambda lease=0: struct.pack("!III", xid(), 0, lease)  # noqa: E731
    p = socket.inet_aton(peer)
    bodies = [
        (32, 1, struct.pack("!B3x", 8) + t()),                      # port request
        (33, 0, struct.pack("!HH", 16, 0) + t()),                   # SPI request
        (32, 4, struct.pack("!HBx", port, count) + t()),            # port renewal
        (33, 4, struct.pack("!HHI", spicount, 0, spi) + t()),       # SPI renewal
        (32, 2, struct.pack("!HH", port, 0) + t()),                 # port invalidate
        (32, 3, struct.pack("!HBx", port, count) + t()),            # port block invalidate
        (33, 2, struct.pack("!I", spi) + t()),                      # SPI invalidate
        (33, 3, struct.pack("!HHI", spicount, 0, spi) + t()),       # SPI block invalidate
        (34, 0, p + struct.pack("!I", spi) + t()),                  # SA validate
        (35, 0, p + struct.pack("!I", spi) + t()),                  # SA invalidate
        (34, 1, socket.inet_aton("192.0.2.99") + struct.pack("!I", 0) + t()),  # blacklist add
        (35, 1, p + struct.pack("!I", 0) + t()),                    # blacklist remove
        (36, 0, struct.pack("!B3x", 7) + t()),                      # invalidate all
    ]
    return [with_checksum(struct.pack("!BBH", ty, c, 0) + b) for ty, c, b in bodies]


def as_host(router, victim, key_id, port, count, spi, spicount, peer):
    s = spoofer()
    n = 0
    for m in host_messages(port, count, spi, spicount, peer):
        s.sendto(ip_packet(victim, router, m), (router, 0))
        s.sendto(ip_packet(victim, router, seal(os.urandom(16), key_id, 1 << 30,
                                                victim, m)), (router, 0))
        n += 2
        time.sleep(0.01)
    print("sent", n)


def as_router(router, victim):
    s = spoofer()
    bcast = victim.rsplit(".", 1)[0] + ".255"
    epoch = 0x7777
    inval = with_checksum(struct.pack("!BBHB3xIII", 36, 0, 0, 7, 0, epoch, 0))
    grant = with_checksum(struct.pack("!BBHHBBIII", 32, 1, 0, 40000, 8, 0, xid(), epoch, 3600))
    refusal = with_checksum(struct.pack("!BBHHBBIII", 32, 0, 0, 0, 0, 6, xid(), epoch, 0))
    block = with_checksum(struct.pack("!BBHHBxIII", 32, 3, 0, 20000, 255, 0, epoch, 0))
    sealed = seal(os.urandom(16), 1, 0, victim, inval)
    msgs = [(victim, inval), (bcast, inval), (victim, grant), (victim, refusal),
            (victim, block), (victim, sealed)]
    for dst, m in msgs:
        s.sendto(ip_packet(router, dst, m), (dst, 0))
        time.sleep(0.01)
    print("sent", len(msgs))


def replay(pcap, router):
    data = open(pcap, "rb").read()
    off, n = 24, 0
    s = spoofer()
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(frame) < 34 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        hl = (ip[0] & 15) * 4
        if ip[9] != 1 or socket.inet_ntoa(ip[16:20]) != router or not 32 <= ip[hl] <= 36:
            continue
        src = socket.inet_ntoa(ip[12:16])
        total = struct.unpack("!H", ip[2:4])[0]
        s.sendto(ip_packet(src, router, ip[hl:total]), (router, 0))
        n += 1
    print("sent", n)


def retransmit(router, host):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.bind((host, 0))
    session = Session(s, host, router)
    session.get_key()
    x = xid()
    m = session.sealed(with_checksum(struct.pack("!BBHB3xIII", 32, 1, 0, 4, x, 0, 0)))
    answers = 0
    for _ in range(2):
        s.sendto(m, (router, 0))
        r = session.recv(1.0, lambda p: p[0] == 32 and len(p) == 36
                         and p[8:12] == struct.pack("!I", x))
        answers += r is not None and session.opens(r)
        time.sleep(1)
    print(answers)


def main():
    a = sys.argv[1:]
    if a[0] == "as-host":
        as_host(a[1], a[2], int(a[3]), int(a[4]), int(a[5]), int(a[6]), int(a[7]), a[8])
    elif a[0] == "as-router":
        as_router(a[1], a[2])
    elif a[0] == "replay":
        replay(a[1], a[2])
    elif a[0] == "retransmit":
        retransmit(a[1], a[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
