#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks a loaded dnat module against its YNL spec with the kernel's own YNL
library (KSRC/tools/net/ynl/pyynl/lib): what generic netlink says about the
family, not what this repository says about it. Test code only.

    ynl_policy.py KSRC SPEC                   as an administrator
    ynl_policy.py KSRC SPEC --unprivileged    without CAP_NET_ADMIN

As an administrator, for every command of the spec:

- the module has a do handler exactly when the spec has do, a dump
  handler exactly when it has dump (CTRL_CMD_GETPOLICY per command);
- the policy generic netlink reports for it is the one the spec implies:
  every attribute some request lists, with its type and the full range
  of that type (the module's policy checks no values) or, for strings,
  the spec's max-len; attributes no request lists (NLA_REJECT) and
  be32 ones (NLA_BE32, which the policy dump leaves out) are absent;
- each attribute alone in a get-config request is accepted if some
  request lists it and refused with EINVAL if none does (this tells
  NLA_BE32 from NLA_REJECT). pad and unused attributes cannot be sent
  with the library and are left out.

- a notification of the spec (an operation with event or notify) has no
  handler: generic netlink reports no policy for its command;
- every multicast group of the spec can be joined.

Without CAP_NET_ADMIN (run it under setpriv), every command of the spec
with no attributes: the ones flagged uns-admin-perm fail with EPERM, the
others succeed (they only read); joining a multicast group fails with
EPERM (every dnat group is admin-only: GENL_MCAST_CAP_NET_ADMIN).

Prints one line per mismatch, then a summary; exit status 1 on a mismatch.
"""
import errno
import os
import sys

import yaml

KSRC, SPEC = sys.argv[1], sys.argv[2]
UNPRIVILEGED = '--unprivileged' in sys.argv[3:]
sys.path.insert(0, os.path.join(KSRC, 'tools/net/ynl/pyynl'))
# pylint: disable=wrong-import-position
from lib import YnlFamily, NlError  # noqa: E402
from lib.ynl import _genl_policy_dump  # noqa: E402

with open(SPEC, encoding='utf-8') as f:
    PROTO = yaml.safe_load(f).get('protocol', 'genetlink')
ynl = YnlFamily(SPEC, schema=os.path.join(KSRC, 'Documentation/netlink', f'{PROTO}.yaml'))
NAME = ynl.yaml['name']
bad = []

ops = [op for op in ynl.msgs.values() if op.value != 0 and not op.is_async]
ntfs = [op for op in ynl.msgs.values() if op.is_async]
groups = list(ynl.mcast_groups)
modes = {op.name: [m for m in ('do', 'dump') if m in op.yaml] for op in ops}
aset = next(iter(ynl.attr_sets.values()))
requested = set()
for op in ops:
    for m in modes[op.name]:
        requested.update(op.yaml[m].get('request', {}).get('attributes', []))

FULL = {'u8': 0xff, 'u16': 0xffff, 'u32': 0xffffffff, 'u64': 0xffffffffffffffff}


def reported(a):
    """What CTRL_CMD_GETPOLICY reports for attribute a, or None."""
    if a.name not in requested or a.byte_order == 'big-endian':
        return None
    if a.type in FULL:
        return {'type': a.type, 'min-value': 0, 'max-value': FULL[a.type]}
    if a.type == 'string':
        return {'type': 'nul-string', 'max-length': a.yaml['checks']['max-len']}
    if a.type == 'binary' and 'exact-len' in a.yaml.get('checks', {}):
        n = a.yaml['checks']['exact-len']
        return {'type': 'binary', 'min-length': n, 'max-length': n}
    return {'type': f'(no AttrType for {a.type})'}


def call(op_name, mode, vals):
    """None on success, else the errno."""
    try:
        if mode == 'do':
            ynl.do(op_name, vals)
        else:
            ynl.dump(op_name, vals)
        return None
    except NlError as e:
        return e.error


def join(group):
    """None if group `group` could be joined, else the errno."""
    try:
        YnlFamily(SPEC, schema="").ntf_subscribe(group)
        return None
    except OSError as e:
        return e.errno


if UNPRIVILEGED:
    for g in groups:
        err = join(g)
        if err != errno.EPERM:
            bad.append(f"joining group {g} without CAP_NET_ADMIN: "
                       f"{'succeeded' if err is None else os.strerror(err)}, expected EPERM")
    for op in ops:
        admin = 'uns-admin-perm' in op.yaml.get('flags', [])
        for m in modes[op.name]:
            err = call(op.name, m, {})
            if admin and err != errno.EPERM:
                bad.append(f'{op.name} ({m}) without CAP_NET_ADMIN: '
                           f"{'succeeded' if err is None else os.strerror(err)}, "
                           'expected EPERM (the spec flags it uns-admin-perm)')
            elif not admin and err is not None:
                bad.append(f'{op.name} ({m}) without CAP_NET_ADMIN: {os.strerror(err)}, '
                           'expected success (the spec does not flag it)')
else:
    want = {a.name: reported(a) for a in aset.attrs.values() if reported(a)}
    # One policy for the whole family: a wrong entry is reported once, with
    # the commands it was seen in.
    wrong = {}
    for op in ops:
        for m in ('do', 'dump'):
            try:
                pol = ynl.get_policy(op.name, m)
            except Exception as e:  # pylint: disable=broad-except
                bad.append(f'{op.name}: no policy from generic netlink: {e}')
                break
            if m not in modes[op.name]:
                if pol is not None:
                    bad.append(f'{op.name}: the module has a {m} handler, the spec has no {m}')
                continue
            if pol is None:
                bad.append(f'{op.name}: the spec has {m}, the module has no {m} handler')
                continue
            got = {n: pol[n].to_dict() for n in pol}
            for n in sorted(set(got) | set(want)):
                if got.get(n) != want.get(n):
                    wrong.setdefault((n, repr(got.get(n))), []).append(f'{op.name} ({m})')
    for (n, got), where in wrong.items():
        bad.append(f'policy of {n}: the module reports {got}, the spec implies {want.get(n)} '
                   f"(in {', '.join(where)})")
    for op in ntfs:
        try:
            pol = _genl_policy_dump(ynl.nlproto.family_id, op.rsp_value)[0]
        except Exception:  # pylint: disable=broad-except
            pol = {}
        if pol:
            bad.append(f'{op.name}: a notification, yet the module has a handler for its '
                       f'command {op.rsp_value} ({", ".join(pol)})')
    for g in groups:
        err = join(g)
        if err is not None:
            bad.append(f'joining group {g}: {os.strerror(err)}')
    sample = {'u8': 0, 'u16': 0, 'u32': 0, 'u64': 0, 'flag': True, 'string': 'x'}
    for a in aset.attrs.values():
        if a.type not in sample:
            continue
        err = call('get-config', 'do', {a.name: sample[a.type]})
        if a.name in requested and err is not None:
            bad.append(f'{a.name} alone in get-config: {os.strerror(err)}; the policy should '
                       'take it (a request lists it)')
        elif a.name not in requested and err != errno.EINVAL:
            bad.append(f"{a.name} alone in get-config: {'accepted' if err is None else os.strerror(err)}"
                       '; the policy should refuse it with EINVAL (no request lists it)')

for b in bad:
    print(f'{NAME}: {b}')
what = 'permissions' if UNPRIVILEGED else 'commands, policy and attributes'
print(f"{NAME}: {what}: {len(bad)} mismatches with {os.path.basename(SPEC)} "
      f'({len(ops)} commands, {len(ntfs)} notifications, {len(groups)} multicast groups, '
      f'{len(aset.attrs)} attributes)')
sys.exit(1 if bad else 0)
