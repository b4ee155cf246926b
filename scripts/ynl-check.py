#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The drift check of the dnat generic netlink contract.

The YNL specs Documentation/netlink/specs/dnat_router.yaml and dnat_host.yaml
are the contract of the two families. This checks everything else that
spells it out against them, with the kernel tree's own YNL library and
generator (KSRC/tools/net/ynl/pyynl):

- each spec validates against the kernel's schema for its protocol, has a
  doc for every attribute set, attribute, definition, enum entry and
  operation, and the definitions both specs share (the block kinds, the
  longest interface name) are the same in both;
- include/uapi/linux/dnat_router.h and dnat_host.h are what
  ynl_gen_c.py --mode uapi --header generates from the specs, and
  include/uapi/linux/dnat.h includes both;
- rust/dnat-core/src/uapi.rs has one constant per command, attribute and
  enum entry, with the spec's value (names: the spec's in upper case), the
  MAX of each set, the family names, the version, IFNAME_MAX and one
  constant per multicast group ({ROUTER,HOST}_MCGRP_<NAME>);
- the POLICY tables of rust/router/netlink.rs and rust/host/netlink.rs have
  one entry per attribute, in attribute order, each the type the spec
  gives (attributes no request lists: Reject), strings with the spec's
  max-len, binary attributes with its exact-len (Exact); their OPS tables
  register every command as doit or dumpit as the spec's do or dump,
  admin (GENL_UNS_ADMIN_PERM) exactly when the spec flags it
  uns-admin-perm; their MCGRPS tables the spec's multicast groups in
  order, each admin-only (GENL_MCAST_CAP_NET_ADMIN); every Msg::put_* of
  an attribute in the modules (rust/router, rust/host,
  rust/common/counters.rs) writes the spec's type, so replies are checked
  as well as requests;
- Documentation/networking/dnat-netlink.rst lists every command (number,
  name, handler, admin) and every attribute (number, name, policy) of each
  family, and nothing else, in its Commands and Attributes tables;
- dnatctl's attribute codecs (userspace-tool/src/msg.rs) map each attribute
  they know to the spec's number and decode, encode and size it as the
  spec's type;
- the policy model of the nl_config fuzz target
  (rust/dnat-core/fuzz/fuzz_targets/nl_config.rs) is the spec's.

The Rust and reStructuredText are read with regular expressions over the
shapes of those tables; anything that does not parse is an error, never
skipped.

  ynl-check.py --ksrc DIR [--root DIR]            check; exit 1 on drift
  ynl-check.py --ksrc DIR [--root DIR] --write    regenerate the headers
  ynl-check.py --ksrc DIR --self-test             check copies broken on purpose
"""

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

SPECS = 'Documentation/netlink/specs'
UAPI_RS = 'rust/dnat-core/src/uapi.rs'
RST = 'Documentation/networking/dnat-netlink.rst'
MSG_RS = 'userspace-tool/src/msg.rs'
COUNTERS_RS = 'rust/common/counters.rs'
FUZZ_RS = 'rust/dnat-core/fuzz/fuzz_targets/nl_config.rs'
WRAPPER = 'include/uapi/linux/dnat.h'

FAMILIES = {
    'router': {
        'spec': f'{SPECS}/dnat_router.yaml',
        'header': 'include/uapi/linux/dnat_router.h',
        'netlink': 'rust/router/netlink.rs',
        'dir': 'rust/router',
        'cmd_mod': 'router_cmd',
        'attr_mod': 'router_attr',
        'family_const': 'ROUTER_FAMILY',
        'rst_title': 'The dnat_router family',
        'msg_enum': 'RouterAttr',
        'fuzz_fn': 'router_policy',
    },
    'host': {
        'spec': f'{SPECS}/dnat_host.yaml',
        'header': 'include/uapi/linux/dnat_host.h',
        'netlink': 'rust/host/netlink.rs',
        'dir': 'rust/host',
        'cmd_mod': 'host_cmd',
        'attr_mod': 'host_attr',
        'family_const': 'HOST_FAMILY',
        'rst_title': 'The dnat_host family',
        'msg_enum': 'HostAttr',
        'fuzz_fn': 'host_policy',
    },
}

# uapi.rs value modules and the spec definitions they mirror.
ENUMS = {
    'block_kind': ('router', 'block-kind'),
    'unowned': ('router', 'unowned'),
    'sa_policy': ('router', 'sa-policy'),
    'pap_auth_mode': ('router', 'pap-auth'),
    'delivery': ('router', 'delivery'),
    'host_mode': ('host', 'host-mode'),
    'sa_state': ('host', 'sa-state'),
    'flow_state': ('host', 'flow-state'),
    'router_event': ('router', 'router-event'),
    'host_event': ('host', 'host-event'),
}

# Definitions of the router spec that the host spec uses too: the host
# spec repeats them with `header: linux/dnat_router.h` (not rendered again).
SHARED = ('ifname-max', 'block-kind')

# Policy names as the rst writes them.
NLA = {'Reject': 'NLA_REJECT', 'U8': 'NLA_U8', 'U16': 'NLA_U16',
       'U32': 'NLA_U32', 'U64': 'NLA_U64', 'Be32': 'NLA_BE32',
       'NulString': 'NLA_NUL_STRING', 'Exact': 'NLA_BINARY'}


def c_upper(name):
    return name.upper().replace('-', '_')


def fmt_policy(p):
    kind, arg = p
    return f'{kind}({arg})' if arg is not None else kind


class Checker:
    def __init__(self, root, ksrc):
        self.root = root
        self.ksrc = ksrc
        self.errors = []
        self._sets = {}
        self._policies = {}
        self.puts_seen = {}

    def err(self, where, msg):
        self.errors.append(f'{where}: {msg}')

    def read(self, rel):
        with open(os.path.join(self.root, rel), encoding='utf-8') as f:
            return f.read()

    # -- the specs -------------------------------------------------------

    def load_specs(self):
        sys.path.insert(0, os.path.join(self.ksrc, 'tools/net/ynl/pyynl'))
        # pylint: disable=import-outside-toplevel
        import yaml
        from lib import SpecFamily
        self.specs = {}
        for fam, d in FAMILIES.items():
            path = os.path.join(self.root, d['spec'])
            try:
                with open(path, encoding='utf-8') as f:
                    raw = yaml.safe_load(f)
                proto = raw.get('protocol', 'genetlink')
                schema = os.path.join(self.ksrc, 'Documentation/netlink', f'{proto}.yaml')
                spec = SpecFamily(path, schema_path=schema)
            except Exception as e:  # pylint: disable=broad-except
                first = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
                self.err(d['spec'], f'does not load or validate against the kernel schema: '
                         f'{type(e).__name__}: {first}')
                continue
            self.specs[fam] = spec
        return len(self.specs) == len(FAMILIES)

    def attr_set(self, fam):
        if fam not in self._sets:
            sets = list(self.specs[fam].attr_sets.values())
            self._sets[fam] = sets[0] if len(sets) == 1 else None
            if len(sets) != 1:
                self.err(FAMILIES[fam]['spec'], f'{len(sets)} attribute sets; the modules have '
                         'one flat policy (AttrType has no nests), so the check expects one')
        return self._sets[fam]

    def request_attrs(self, fam):
        out = set()
        for op in self.specs[fam].msgs.values():
            for mode in ('do', 'dump'):
                out.update(op.yaml.get(mode, {}).get('request', {}).get('attributes', []))
        return out

    def check_specs(self):
        for fam, d in FAMILIES.items():
            spec = self.specs[fam]
            where = d['spec']
            y = spec.yaml
            if not y.get('doc'):
                self.err(where, 'the family has no doc')
            for defn in y.get('definitions', []):
                if not defn.get('doc'):
                    self.err(where, f"definition {defn['name']} has no doc")
                for e in defn.get('entries', []):
                    if isinstance(e, str) or not e.get('doc'):
                        n = e if isinstance(e, str) else e['name']
                        self.err(where, f"entry {n} of {defn['name']} has no doc")
            for s in y['attribute-sets']:
                if not s.get('doc'):
                    self.err(where, f"attribute set {s['name']} has no doc")
                for a in s['attributes']:
                    if not a.get('doc'):
                        self.err(where, f"attribute {a['name']} has no doc")
            for op in y['operations']['list']:
                if not op.get('doc'):
                    self.err(where, f"operation {op['name']} has no doc")
            aset = self.attr_set(fam)
            if aset is None:
                continue
            values = [a.value for a in aset.attrs.values()]
            if values != list(range(len(values))):
                self.err(where, f'attribute values {values} are not 0, 1, 2, ...: the Rust '
                         'policy tables are indexed by position')
        router, host = self.specs['router'], self.specs['host']
        for name in SHARED:
            r = next((x for x in router.yaml.get('definitions', []) if x['name'] == name), None)
            h = next((x for x in host.yaml.get('definitions', []) if x['name'] == name), None)
            if r is None or h is None:
                self.err(FAMILIES['host']['spec'], f'shared definition {name} missing from '
                         f"{'the router' if r is None else 'the host'} spec")
                continue
            if h.get('header') != 'linux/dnat_router.h' or r.get('header'):
                self.err(FAMILIES['host']['spec'], f'shared definition {name}: the router spec '
                         'defines it, the host spec names header: linux/dnat_router.h')
            def strip(x):
                return {k: v for k, v in x.items() if k not in ('header', 'doc')}
            if strip(r) != strip(h):
                self.err(FAMILIES['host']['spec'], f'shared definition {name} differs from the '
                         "router spec's")

    # -- the generated headers -------------------------------------------

    # Generated headers by spec text (the self-test checks many copies of
    # the same specs).
    generated = {}

    def generate(self, fam, out):
        """Runs the kernel's generator on a copy of the spec laid out as in a
        kernel tree (the schema next to the specs directory, a MAINTAINERS
        file at the root, which the generator uses to name the spec)."""
        d = FAMILIES[fam]
        key = (fam, self.read(d['spec']))
        if key in Checker.generated:
            with open(out, 'w', encoding='utf-8') as f:
                f.write(Checker.generated[key])
            return True
        with tempfile.TemporaryDirectory() as stage:
            specs = os.path.join(stage, SPECS)
            os.makedirs(specs)
            open(os.path.join(stage, 'MAINTAINERS'), 'w', encoding='utf-8').close()
            proto = self.specs[fam].proto
            shutil.copy(os.path.join(self.ksrc, 'Documentation/netlink', f'{proto}.yaml'),
                        os.path.dirname(specs))
            spec = os.path.join(specs, os.path.basename(d['spec']))
            shutil.copy(os.path.join(self.root, d['spec']), spec)
            gen = os.path.join(self.ksrc, 'tools/net/ynl/pyynl/ynl_gen_c.py')
            r = subprocess.run([sys.executable, gen, '--mode', 'uapi', '--header',
                                '--spec', spec, '-o', out],
                               capture_output=True, text=True, check=False)
            if r.returncode != 0:
                self.err(d['spec'], f'ynl_gen_c.py failed: {(r.stdout + r.stderr).strip()}')
                return False
        with open(out, encoding='utf-8') as f:
            Checker.generated[key] = f.read()
        return True

    def check_headers(self, write=False):
        with tempfile.TemporaryDirectory() as tmp:
            for fam, d in FAMILIES.items():
                out = os.path.join(tmp, os.path.basename(d['header']))
                if not self.generate(fam, out):
                    continue
                with open(out, encoding='utf-8') as f:
                    want = f.read()
                path = os.path.join(self.root, d['header'])
                if write:
                    with open(path, 'w', encoding='utf-8') as f:
                        f.write(want)
                    continue
                have = open(path, encoding='utf-8').read() if os.path.exists(path) else ''
                if have != want:
                    diff = ''.join(list(difflib.unified_diff(
                        have.splitlines(True), want.splitlines(True),
                        d['header'], 'generated'))[:40])
                    self.err(d['header'], 'differs from what ynl_gen_c.py generates from '
                             f"{d['spec']} (scripts/ynl-check.sh --write regenerates it):\n{diff}")
        if write:
            return
        wrapper = self.read(WRAPPER)
        for d in FAMILIES.values():
            inc = f"#include <{d['header'][len('include/uapi/'):]}>"
            if inc not in wrapper:
                self.err(WRAPPER, f'does not {inc}')

    # -- rust/dnat-core/src/uapi.rs ----------------------------------------

    def parse_uapi(self):
        text = self.read(UAPI_RS).split('#[cfg(test)]')[0]
        top, mods, cur = {}, {}, None
        for n, line in enumerate(text.splitlines(), 1):
            m = re.match(r'^pub mod (\w+) \{$', line)
            if m:
                cur = mods.setdefault(m.group(1), {})
                continue
            if line == '}':
                cur = None
                continue
            m = re.match(r'^\s*pub const (\w+): ([^=]+?) = (.+);$', line)
            if not m:
                if re.match(r'^\s*pub const ', line):
                    self.err(f'{UAPI_RS}:{n}', f'constant not understood: {line.strip()}')
                continue
            name, ty, val = m.groups()
            table = top if cur is None else cur
            table[name] = (ty.strip(), val.strip(), n)
        self.uapi_top, self.uapi_mods = top, mods

    def uapi_int(self, table, name, where):
        _, val, n = table[name]
        seen = set()
        while re.fullmatch(r'[A-Z_][A-Z0-9_]*', val):
            if val in seen or val not in table:
                self.err(f'{where}:{n}', f'{name} = {val}: not a constant of the same module')
                return None
            seen.add(val)
            val = table[val][1]
        try:
            return int(val, 0)
        except ValueError:
            self.err(f'{where}:{n}', f'{name} = {val}: not an integer')
            return None

    def check_uapi_set(self, mod, want, what, rust_type, has_max):
        """want: {RUST_NAME: value} from the spec."""
        table = self.uapi_mods.get(mod)
        if table is None:
            self.err(UAPI_RS, f'no module {mod} (the {what})')
            return
        for name, (ty, _, n) in sorted(table.items(), key=lambda x: x[1][2]):
            if name == 'MAX' and has_max:
                continue
            if name not in want:
                self.err(f'{UAPI_RS}:{n}', f'{mod}::{name} is not in the spec ({what})')
                continue
            if ty != rust_type:
                self.err(f'{UAPI_RS}:{n}', f'{mod}::{name} is a {ty}, expected {rust_type}')
            v = self.uapi_int(table, name, UAPI_RS)
            if v is not None and v != want[name]:
                self.err(f'{UAPI_RS}:{n}', f'{mod}::{name} is {v}, the spec says {want[name]} '
                         f'({what})')
        for name, v in want.items():
            if name not in table:
                self.err(UAPI_RS, f'{mod} has no constant {name} ({what}: {v})')
        if has_max:
            if 'MAX' not in table:
                self.err(UAPI_RS, f'{mod} has no MAX')
            else:
                v = self.uapi_int(table, 'MAX', UAPI_RS)
                if v is not None and v != max(want.values()):
                    self.err(f"{UAPI_RS}:{table['MAX'][2]}", f'{mod}::MAX is {v}, the highest '
                             f'value of the spec is {max(want.values())}')

    def check_uapi(self):
        self.parse_uapi()
        mapped = {d['cmd_mod'] for d in FAMILIES.values()} | \
            {d['attr_mod'] for d in FAMILIES.values()} | set(ENUMS)
        for mod in self.uapi_mods:
            if mod not in mapped:
                self.err(UAPI_RS, f'module {mod} mirrors nothing in the specs (scripts/ynl-check.py '
                         'ENUMS maps uapi.rs modules to spec definitions)')
        for fam, d in FAMILIES.items():
            spec = self.specs[fam]
            ops = {c_upper(op.name): op.value for op in spec.msgs.values()}
            self.check_uapi_set(d['cmd_mod'], ops, f'{fam} commands', 'u8', True)
            aset = self.attr_set(fam)
            if aset is not None:
                attrs = {c_upper(a.name): a.value for a in aset.attrs.values()}
                self.check_uapi_set(d['attr_mod'], attrs, f'{fam} attributes', 'u16', True)
            for name, spec_def in spec.consts.items():
                if spec_def.get('type') not in ('enum', 'flags') or spec_def.get('header'):
                    continue
                if (fam, name) not in ENUMS.values():
                    self.err(d['spec'], f'definition {name} has no uapi.rs module (ENUMS in '
                             'scripts/ynl-check.py)')
        for mod, (fam, name) in ENUMS.items():
            if fam not in self.specs:
                continue
            e = self.specs[fam].consts.get(name)
            if e is None:
                self.err(FAMILIES[fam]['spec'], f'no definition {name} (uapi.rs {mod})')
                continue
            want = {c_upper(x.name): x.user_value() for x in e.entries.values()}
            self.check_uapi_set(mod, want, f'{fam} {name}', 'u8', False)
        # The family names, the version, the longest interface name.
        for fam, d in FAMILIES.items():
            c = self.uapi_top.get(d['family_const'])
            want = f'c"{self.specs[fam].name}"'
            if c is None or c[1] != want:
                self.err(UAPI_RS, f"{d['family_const']} is {c[1] if c else 'missing'}, the spec "
                         f'names the family {want}')
            version = self.specs[fam].yaml.get('version', 1)
            if 'FAMILY_VERSION' not in self.uapi_top:
                self.err(UAPI_RS, 'no FAMILY_VERSION')
            else:
                v = self.uapi_int(self.uapi_top, 'FAMILY_VERSION', UAPI_RS)
                if v is not None and v != version:
                    self.err(UAPI_RS, f'FAMILY_VERSION is {v}, the {fam} spec says {version}')
        # The multicast groups: one constant per group, named
        # {ROUTER,HOST}_MCGRP_{NAME}, the group's name as a C string.
        for fam, d in FAMILIES.items():
            prefix = d['family_const'].replace('_FAMILY', '_MCGRP_')
            groups = [g['name'] for g in self.specs[fam].yaml.get('mcast-groups', {}).get('list', [])]
            want = {prefix + c_upper(g): f'c"{g}"' for g in groups}
            for name, (_, val, n) in self.uapi_top.items():
                if name.startswith(prefix) and name not in want:
                    self.err(f'{UAPI_RS}:{n}', f'{name} is not a multicast group of the {fam} spec')
            for name, val in want.items():
                c = self.uapi_top.get(name)
                if c is None or c[1] != val:
                    self.err(UAPI_RS, f"{name} is {c[1] if c else 'missing'}, the {fam} spec's "
                             f'multicast group is {val}')
        ifmax = self.specs['router'].consts.get('ifname-max', {}).get('value')
        if 'IFNAME_MAX' not in self.uapi_top:
            self.err(UAPI_RS, 'no IFNAME_MAX')
        else:
            v = self.uapi_int(self.uapi_top, 'IFNAME_MAX', UAPI_RS)
            if v is not None and v != ifmax:
                self.err(UAPI_RS, f'IFNAME_MAX is {v}, the spec says ifname-max {ifmax}')

    # -- the kernel policies and ops ---------------------------------------

    def expected_policy(self, fam):
        """[(RUST_NAME, (kind, arg))] by attribute value, or None."""
        if fam not in self._policies:
            self._policies[fam] = self._expected_policy(fam)
        return self._policies[fam]

    def _expected_policy(self, fam):
        aset = self.attr_set(fam)
        if aset is None:
            return None
        req = self.request_attrs(fam)
        out = []
        for a in aset.attrs.values():
            if a.name not in req:
                out.append((c_upper(a.name), ('Reject', None)))
                continue
            t, be = a.type, a.byte_order == 'big-endian'
            if a.byte_order and not (t == 'u32' and be):
                self.err(FAMILIES[fam]['spec'], f'attribute {a.name}: {a.byte_order} {t} has no '
                         'AttrType (rust/ffi/genl.rs has Be32 only)')
                p = None
            elif t in ('u8', 'u16', 'u64'):
                p = (t.upper(), None)
            elif t == 'u32':
                p = ('Be32' if be else 'U32', None)
            elif t == 'string' and 'max-len' in a.yaml.get('checks', {}):
                p = ('NulString', a.yaml['checks']['max-len'])
            elif t == 'binary' and 'exact-len' in a.yaml.get('checks', {}):
                p = ('Exact', a.yaml['checks']['exact-len'])
            else:
                self.err(FAMILIES[fam]['spec'], f'attribute {a.name}: a request attribute of type '
                         f'{t} has no AttrType in rust/ffi/genl.rs (strings need a max-len, '
                         'binary attributes an exact-len)')
                p = None
            out.append((c_upper(a.name), p))
        return out

    def resolve_attr_type(self, expr, consts, where):
        expr = expr.strip()
        m = re.fullmatch(r'AttrType::(Reject|U8|U16|U32|U64|Be32)', expr)
        if m:
            return (m.group(1), None)
        m = re.fullmatch(r'AttrType::NulString\((.+)\)', expr)
        if m:
            arg = re.sub(r'\s+as\s+u16$', '', m.group(1).strip())
            if re.fullmatch(r'\d+', arg):
                return ('NulString', int(arg))
            if arg in self.uapi_top:
                return ('NulString', self.uapi_int(self.uapi_top, arg, UAPI_RS))
            self.err(where, f'NulString({m.group(1)}): unknown length')
            return None
        m = re.fullmatch(r'AttrType::Exact\((\d+)\)', expr)
        if m:
            return ('Exact', int(m.group(1)))
        if expr in consts:
            return self.resolve_attr_type(consts.pop(expr), consts, where)
        self.err(where, f'policy entry not understood: {expr}')
        return None

    def check_netlink(self):
        for fam, d in FAMILIES.items():
            where = d['netlink']
            text = self.read(where)
            want = self.expected_policy(fam)
            consts = dict(re.findall(r'^const (\w+): AttrType = (.+);$', text, re.M))
            m = re.search(r'^static POLICY: \[PolicyEntry; [^\]]+\] = \[\n(.*?)^\];', text,
                          re.M | re.S)
            if not m:
                self.err(where, 'no static POLICY table')
            elif want is not None:
                start = text[:m.start(1)].count('\n') + 1
                rows = []
                for i, line in enumerate(m.group(1).splitlines()):
                    if not line.strip():
                        continue
                    r = re.fullmatch(r'\s*PolicyEntry::new\((.+?)\),\s*//\s*(\w+)\b.*', line)
                    if not r:
                        self.err(f'{where}:{start + i}', f'policy line not understood: '
                                 f'{line.strip()}')
                        continue
                    rows.append((start + i, r.group(2),
                                 self.resolve_attr_type(r.group(1), dict(consts),
                                                        f'{where}:{start + i}')))
                if len(rows) != len(want):
                    self.err(where, f'POLICY has {len(rows)} entries, the spec has {len(want)} '
                             'attributes (one entry per attribute, UNSPEC first)')
                for idx, ((n, comment, have), (name, p)) in enumerate(zip(rows, want)):
                    if comment != name:
                        self.err(f'{where}:{n}', f'POLICY[{idx}] is commented {comment}, the '
                                 f'spec attribute {idx} is {name}')
                    if p is not None and have is not None and have != p:
                        self.err(f'{where}:{n}', f'POLICY[{idx}] ({name}) is {fmt_policy(have)}, '
                                 f'the spec says {fmt_policy(p)}'
                                 + (' (output only: no request lists it)' if p[0] == 'Reject'
                                    else ''))
            self.check_ops(fam, where, text)
            self.check_mcgrps(fam, where, text)

    def check_mcgrps(self, fam, where, text):
        """The MCGRPS table registers the spec's groups, in its order (the
        group numbers), each admin-only: the specs (genetlink-legacy) cannot
        flag a group, and every dnat group carries what the admin dumps do."""
        prefix = FAMILIES[fam]['family_const'].replace('_FAMILY', '_MCGRP_')
        want = [prefix + c_upper(g['name'])
                for g in self.specs[fam].yaml.get('mcast-groups', {}).get('list', [])]
        m = re.search(r'^static MCGRPS: \[McastGroup; (\d+)\] = \[(.*?)\];', text, re.M | re.S)
        if not m:
            if want:
                self.err(where, 'no static MCGRPS table (the spec has multicast groups)')
            return
        have = re.findall(r'McastGroup::new\(\s*(?:\w+::)*(\w+),\s*(true|false)\s*\)', m.group(2))
        if int(m.group(1)) != len(have):
            self.err(where, f'MCGRPS is declared [McastGroup; {m.group(1)}] with {len(have)} groups')
        if [n for n, _ in have] != want:
            self.err(where, f"MCGRPS registers {[n for n, _ in have]}, the spec's groups are {want}")
        for n, admin in have:
            if admin != 'true':
                self.err(where, f'MCGRPS: {n} is not admin-only (GENL_MCAST_CAP_NET_ADMIN)')

    def check_ops(self, fam, where, text):
        m = re.search(r'^static OPS: \[Op; (\d+)\] = \[\n(.*?)^\];', text, re.M | re.S)
        if not m:
            self.err(where, 'no static OPS table')
            return
        start = text[:m.start(2)].count('\n') + 1
        have = {}
        for i, line in enumerate(m.group(2).splitlines()):
            if not line.strip():
                continue
            r = re.fullmatch(r'\s*Op::(doit|dumpit)::<.+>\(cmd::(\w+),\s*(true|false)\),', line)
            if not r:
                self.err(f'{where}:{start + i}', f'op line not understood: {line.strip()}')
                continue
            if r.group(2) in have:
                self.err(f'{where}:{start + i}', f'{r.group(2)} registered twice')
            have[r.group(2)] = (r.group(1), r.group(3) == 'true', start + i)
        if int(m.group(1)) != len(have):
            self.err(where, f'OPS is declared [Op; {m.group(1)}] with {len(have)} ops')
        for op in self.specs[fam].msgs.values():
            name = c_upper(op.name)
            modes = [x for x in ('do', 'dump') if x in op.yaml]
            flags = op.yaml.get('flags', [])
            if 'admin-perm' in flags:
                self.err(FAMILIES[fam]['spec'], f'operation {op.name}: admin-perm '
                         '(GENL_ADMIN_PERM); rust/ffi/genl.rs Op registers GENL_UNS_ADMIN_PERM only')
            if not modes:
                if name in have:
                    self.err(where, f'{name} is registered; the spec has no do or dump for it')
                continue
            if len(modes) != 1:
                self.err(FAMILIES[fam]['spec'], f'operation {op.name} has both do and dump; '
                         'an Op has one handler')
                continue
            if name not in have:
                self.err(where, f'OPS does not register {name} (spec operation {op.name})')
                continue
            handler, admin, n = have.pop(name)
            want_handler = 'doit' if modes[0] == 'do' else 'dumpit'
            if handler != want_handler:
                self.err(f'{where}:{n}', f'{name} is registered with Op::{handler}, the spec has '
                         f'{modes[0]}')
            want_admin = 'uns-admin-perm' in flags
            if admin != want_admin:
                self.err(f'{where}:{n}', f'{name} is registered with admin {str(admin).lower()}, '
                         f"the spec {'flags' if want_admin else 'does not flag'} it "
                         'uns-admin-perm')
        for name, (_, _, n) in have.items():
            self.err(f'{where}:{n}', f'{name} is registered but is no operation of the spec')

    # What each Msg::put_* of rust/ffi/genl.rs writes: (type, byte order).
    PUTS = {'u8': ('u8', None), 'u16': ('u16', None), 'u32': ('u32', None),
            'u64': ('u64', None), 'be32': ('u32', 'big-endian'), 'flag': ('flag', None),
            'str': ('string', None), 'string_with_nul': ('string', None),
            'binary': ('binary', None)}

    def check_puts(self):
        for fam, d in FAMILIES.items():
            aset = self.attr_set(fam)
            if aset is None:
                continue
            by_name = {c_upper(a.name): a for a in aset.attrs.values()}
            sites = []
            for name in sorted(os.listdir(os.path.join(self.root, d['dir']))):
                if not name.endswith('.rs'):
                    continue
                rel = f"{d['dir']}/{name}"
                text = self.read(rel)
                for m in re.finditer(r'\.put_(\w+)\(\s*a::(\w+)', text):
                    sites.append((f"{rel}:{text[:m.start()].count(chr(10)) + 1}",
                                  m.group(1), m.group(2)))
            # The counter dump gets its attribute numbers in a CounterAttrs.
            m = re.search(r'CounterAttrs \{(.*?)\}', self.read(d['netlink']), re.S)
            fields = dict(re.findall(r'(\w+): a::(\w+),', m.group(1))) if m else {}
            text = self.read(COUNTERS_RS)
            for m in re.finditer(r'\.put_(\w+)\(\s*a\.(\w+)', text):
                where = f"{COUNTERS_RS}:{text[:m.start()].count(chr(10)) + 1}"
                if m.group(2) not in fields:
                    self.err(where, f"{d['netlink']} has no CounterAttrs field {m.group(2)}")
                    continue
                sites.append((where, m.group(1), fields[m.group(2)]))
            if not sites:
                self.err(d['dir'], 'no Msg::put_* of an attribute found')
            self.puts_seen[fam] = len(sites)
            for where, put, name in sites:
                a = by_name.get(name)
                if a is None:
                    self.err(where, f'put_{put} of {name}, not an attribute of the {fam} spec')
                elif put not in self.PUTS:
                    self.err(where, f'put_{put} of {name}: not a Msg method this check knows')
                elif self.PUTS[put] != (a.type, a.byte_order):
                    t, bo = self.PUTS[put]
                    self.err(where, f'{fam} puts {name} as {bo + " " if bo else ""}{t} '
                             f"(put_{put}), the spec says "
                             f"{a.byte_order + ' ' if a.byte_order else ''}{a.type}")

    # -- Documentation/networking/dnat-netlink.rst -------------------------

    @staticmethod
    def rst_subsection(section, title):
        m = re.search(rf'^{title}\n-+\n(.*?)(?=^\S[^\n]*\n-+\n|\Z)', section, re.M | re.S)
        return m.group(1) if m else None

    def check_rst(self):
        text = self.read(RST)
        titles = [(fam, d['rst_title']) for fam, d in FAMILIES.items()]
        pos = {}
        for fam, title in titles:
            m = re.search(rf'^{re.escape(title)}\n=+\n', text, re.M)
            if not m:
                self.err(RST, f'no section "{title}"')
                return
            pos[fam] = m.end()
        order = sorted(pos.items(), key=lambda x: x[1])
        for i, (fam, p) in enumerate(order):
            end = order[i + 1][1] if i + 1 < len(order) else len(text)
            section = text[p:end]
            spec = self.specs[fam]
            cmds = self.rst_subsection(section, 'Commands')
            attrs = self.rst_subsection(section, 'Attributes')
            title = FAMILIES[fam]['rst_title']
            if cmds is None or attrs is None:
                self.err(RST, f'"{title}" lacks a Commands or an Attributes subsection')
                continue
            rows = {}
            for m in re.finditer(r'^(\d+)\s+([A-Z0-9_]+)\s+(\S+)\s+(\S+)', cmds, re.M):
                rows[int(m.group(1))] = m.groups()[1:]
            for op in spec.msgs.values():
                modes = [x for x in ('do', 'dump') if x in op.yaml]
                if not modes:
                    continue
                name = c_upper(op.name)
                want = (name, 'doit' if modes[0] == 'do' else 'dumpit',
                        'yes' if 'uns-admin-perm' in op.yaml.get('flags', []) else 'no')
                have = rows.pop(op.value, None)
                if have is None:
                    self.err(RST, f'{title}, Commands: no row for command {op.value} {name}')
                elif tuple(have) != want:
                    self.err(RST, f'{title}, Commands: row {op.value} says '
                             f"{' '.join(have)}, the spec says {' '.join(want)}")
            for v, have in rows.items():
                self.err(RST, f"{title}, Commands: row {v} {have[0]} is not in the spec")
            rows = {}
            for m in re.finditer(r'^(\d+)\s+([A-Z0-9_]+)\s+(NLA_[A-Z0-9_]+)', attrs, re.M):
                rows[int(m.group(1))] = m.groups()[1:]
            policy = dict(self.expected_policy(fam) or [])
            aset = self.attr_set(fam)
            for a in (aset.attrs.values() if aset else []):
                if a.value == 0:
                    continue
                name = c_upper(a.name)
                have = rows.pop(a.value, None)
                p = policy.get(name)
                want = (name, NLA[p[0]] if p else '?')
                if have is None:
                    self.err(RST, f'{title}, Attributes: no row for attribute {a.value} {name}')
                elif have[0] != name or (p and have[1] != want[1]):
                    self.err(RST, f"{title}, Attributes: row {a.value} says {' '.join(have)}, "
                             f"the spec says {' '.join(want)}")
            for v, have in rows.items():
                self.err(RST, f'{title}, Attributes: row {v} {have[0]} is not in the spec')

    # -- userspace-tool/src/msg.rs -----------------------------------------

    @staticmethod
    def block(text, header):
        """The body of the item whose first line is `header` (up to the
        closing brace at the same indentation)."""
        m = re.search(rf'^([ \t]*){re.escape(header)}[^\n]*\{{\n(.*?)^\1\}}', text,
                      re.M | re.S)
        return m.group(2) if m else None

    @staticmethod
    def arms(body):
        """(variants, value) of each `A(_) | B => value,` arm of a match over
        the variants of an enum."""
        flat = ' '.join(body.split())
        if 'match self {' not in flat:
            return []
        flat = flat[flat.index('match self {') + len('match self {'):flat.rindex('}')]
        pat = re.compile(r'(?<![\w:])((?:[A-Z]\w*(?:\(\w+\))?\s*\|\s*)*[A-Z]\w*(?:\(\w+\))?)\s*=>')
        heads = list(pat.finditer(flat))
        out = []
        for i, m in enumerate(heads):
            end = heads[i + 1].start() if i + 1 < len(heads) else len(flat)
            value = flat[m.end():end].strip().rstrip(',').strip()
            if value.startswith('{') and value.endswith('}'):
                value = value[1:-1].strip()
            out.append(([re.match(r'\w+', p.strip()).group(0) for p in m.group(1).split('|')],
                        value))
        return out

    def check_msg(self):
        text = self.read(MSG_RS)
        widths = {'u8': '1', 'u16': '2', 'u32': '4', 'u64': '8', 'flag': '0',
                  'string': 's.len() + 1'}
        for fam, d in FAMILIES.items():
            enum, mod = d['msg_enum'], d['attr_mod']
            aset = self.attr_set(fam)
            if aset is None:
                continue
            by_name = {c_upper(a.name): a for a in aset.attrs.values()}
            nla = self.block(text, f'impl Nla for {enum} ')
            parse = self.block(text, f"impl<'a> Parseable<NlaBuffer<&'a [u8]>> for {enum} ")
            if nla is None or parse is None:
                self.err(MSG_RS, f'no impl Nla or Parseable for {enum}')
                continue
            kind_fn = self.block(nla, 'fn kind(')
            len_fn = self.block(nla, 'fn value_len(')
            emit_fn = self.block(nla, 'fn emit_value(')
            if None in (kind_fn, len_fn, emit_fn):
                self.err(MSG_RS, f'impl Nla for {enum}: no kind, value_len or emit_value')
                continue
            variant = {}
            for v, name in re.findall(rf'(\w+)(?:\(_\))?\s*=>\s*{mod}::(\w+)', kind_fn):
                if name not in by_name:
                    self.err(MSG_RS, f'{enum}::{v} is {mod}::{name}, not an attribute of the spec')
                    continue
                variant[v] = by_name[name]
            if not variant:
                self.err(MSG_RS, f'{enum}::kind maps nothing to {mod}')
            # Every variant that kind() maps must be sized, encoded and
            # decoded somewhere below: a table this does not read is an
            # error, not a pass.
            sized = {v for pats, _ in self.arms(len_fn) for v in pats}
            encoded = {v for pats, _ in self.arms(emit_fn) for v in pats}
            decoded = set(re.findall(rf'{mod}::(\w+)\s*=>', parse))
            for v, a in variant.items():
                for what, seen in (('value_len', sized), ('emit_value', encoded)):
                    if v not in seen:
                        self.err(MSG_RS, f'{enum}::{v}: no arm in {what} that this check reads')
                if c_upper(a.name) not in decoded:
                    self.err(MSG_RS, f'{enum}: parse has no arm for {mod}::{c_upper(a.name)}')
            for pats, val in self.arms(len_fn):
                for v in pats:
                    if v not in variant:
                        continue
                    a = variant[v]
                    want = widths.get(a.type)
                    if a.type == 'binary' and 'exact-len' in a.yaml.get('checks', {}):
                        want = str(a.yaml['checks']['exact-len'])
                    if val != want:
                        self.err(MSG_RS, f'{enum}::{v} ({c_upper(a.name)}, {a.type}): value_len '
                                 f'is {val}, the spec type needs {want}')
            for pats, val in self.arms(emit_fn):
                for v in pats:
                    if v not in variant:
                        continue
                    a = variant[v]
                    be = a.byte_order == 'big-endian'
                    if val.startswith('put(buffer, &[*'):
                        how = 'u8'
                    elif '.octets()' in val:
                        how = 'be32'
                    elif '.to_ne_bytes()' in val:
                        how = 'host order'
                    elif val.startswith('emit_cstring'):
                        how = 'string'
                    elif re.fullmatch(r'put\(buffer, \w+\)', val):
                        how = 'binary'
                    elif val == '':
                        how = 'flag'
                    else:
                        how = val
                    want = {'u8': 'u8', 'flag': 'flag', 'string': 'string',
                            'binary': 'binary'}.get(
                        a.type, 'be32' if be else 'host order')
                    if how != want:
                        self.err(MSG_RS, f'{enum}::{v} ({c_upper(a.name)}) is encoded as {how}, '
                                 f'the spec type is {a.byte_order or ""} {a.type}'.replace('  ', ' '))
            decoders = {'u8': 'parse_u8', 'u16': 'parse_u16', 'u64': 'parse_u64',
                        'string': 'parse_cstring', 'flag': 'parse_flag',
                        'binary': 'parse_binary'}
            for name, fn in re.findall(rf'{mod}::(\w+)\s*=>\s*(?:\{{\s*)?(?:Self::\w+\()?'
                                       r'(parse_\w+)\(', parse):
                a = by_name.get(name)
                if a is None:
                    self.err(MSG_RS, f'{enum} parses {mod}::{name}, not an attribute of the spec')
                    continue
                want = decoders.get(a.type) or ('parse_addr' if a.byte_order == 'big-endian'
                                                else 'parse_u32')
                if fn != want:
                    self.err(MSG_RS, f'{enum} decodes {name} ({a.type}) with {fn}, expected {want}')

    # -- the fuzz target's policy model ------------------------------------

    def check_fuzz(self):
        text = self.read(FUZZ_RS)
        names = {'Reject': 'Reject', 'U8': 'U8', 'U16': 'U16', 'U32': 'U32', 'Be32': 'Be32',
                 'IfName': 'NulString', 'Lladdr': 'Exact'}
        ifmax = self.uapi_int(self.uapi_top, 'IFNAME_MAX', UAPI_RS) \
            if 'IFNAME_MAX' in self.uapi_top else None
        for fam, d in FAMILIES.items():
            body = self.block(text, f"fn {d['fuzz_fn']}(")
            want = self.expected_policy(fam)
            if body is None:
                self.err(FUZZ_RS, f"no fn {d['fuzz_fn']}")
                continue
            if want is None:
                continue
            model, default = {}, None
            flat = ' '.join(body.split())
            for pats, ty in re.findall(r'((?:\|?\s*a::\w+\s*)+)=>\s*Ty::(\w+)', flat):
                for p in re.findall(r'a::(\w+)', pats):
                    if p in model:
                        self.err(FUZZ_RS, f"{d['fuzz_fn']}: {p} in two arms")
                    model[p] = ty
            m = re.search(r'_\s*=>\s*Ty::(\w+)', flat)
            default = m.group(1) if m else None
            known = {n for n, _ in want}
            for p in model:
                if p not in known:
                    self.err(FUZZ_RS, f"{d['fuzz_fn']}: a::{p} is not an attribute of the spec")
            for name, p in want:
                if p is None:
                    continue
                ty = model.get(name, default)
                have = (names.get(ty, ty),
                        {'IfName': ifmax, 'Lladdr': 6}.get(ty))
                if have != p:
                    self.err(FUZZ_RS, f"{d['fuzz_fn']}: {name} is Ty::{ty}, the spec says "
                             f'{fmt_policy(p)}')

    def run(self, write=False):
        if not self.load_specs():
            return self.errors
        self.check_specs()
        self.check_headers(write)
        if write:
            return self.errors
        self.check_uapi()
        self.check_netlink()
        self.check_puts()
        self.check_rst()
        self.check_msg()
        self.check_fuzz()
        return self.errors


# -- the self-test ------------------------------------------------------------

def files(root):
    """What the check reads, for the self-test's copy."""
    out = [FAMILIES['router']['spec'], FAMILIES['host']['spec'], FAMILIES['router']['header'],
           FAMILIES['host']['header'], WRAPPER, UAPI_RS, RST, MSG_RS, FUZZ_RS, COUNTERS_RS]
    for d in FAMILIES.values():
        out += [f"{d['dir']}/{n}" for n in sorted(os.listdir(os.path.join(root, d['dir'])))
                if n.endswith('.rs')]
    return out


# (file, text, replacement, a message the check must print). Each is a real
# drift: the text must be found exactly once, so that a change of the
# sources that makes a case miss fails the self-test too.
BREAKAGES = [
    (FAMILIES['router']['header'], '\tDNAT_ROUTER_A_SPI,\n', '\tDNAT_ROUTER_A_SPIS,\n',
     'dnat_router.h: differs from what ynl_gen_c.py generates'),
    (FAMILIES['router']['spec'],
     "        doc: The host authenticates its PAP (it has a key); in host messages.\n",
     "        doc: The host authenticates its PAP (it has a key); in host messages.\n"
     "      -\n        name: host-new\n        type: u32\n        doc: New.\n",
     'router_attr has no constant HOST_NEW'),
    (FAMILIES['host']['spec'], '        name: port-block\n        type: u32\n',
     '        name: port-block\n        type: u16\n',
     'POLICY[11] (PORT_BLOCK) is U32, the spec says U16'),
    (FAMILIES['router']['spec'], '        value: 0\n        doc: Reserved.\n', '        value: 0\n',
     'attribute unspec has no doc'),
    (FAMILIES['host']['spec'], '    header: linux/dnat_router.h\n    doc: What a block holds '
     '(defined with the dnat_router family).\n    value-start: 1\n',
     '    header: linux/dnat_router.h\n    doc: What a block holds '
     '(defined with the dnat_router family).\n    value-start: 0\n',
     'shared definition block-kind differs'),
    (FAMILIES['router']['spec'], 'type: u16\n        doc: Lowest port', 'type: u17\n        doc: '
     'Lowest port', 'does not load or validate against the kernel schema'),
    (UAPI_RS, '    pub const SPI: u16 = 30;\n', '    pub const SPI: u16 = 31;\n',
     'router_attr::SPI is 31, the spec says 30'),
    (UAPI_RS, '    pub const PAP_AUTH: u16 = 37;\n', '',
     'router_attr has no constant PAP_AUTH'),
    (UAPI_RS, '    pub const RST: u8 = 4;\n', '    pub const RST: u8 = 8;\n',
     'flow_state::RST is 8, the spec says 4'),
    (UAPI_RS, 'pub const IFNAME_MAX: usize = 15;', 'pub const IFNAME_MAX: usize = 16;',
     'IFNAME_MAX is 16, the spec says ifname-max 15'),
    (UAPI_RS, 'pub const HOST_MCGRP_EVENTS: &core::ffi::CStr = c"events";',
     'pub const HOST_MCGRP_EVENTS: &core::ffi::CStr = c"event";',
     'HOST_MCGRP_EVENTS is c"event", the host spec\'s multicast group is c"events"'),
    (UAPI_RS, '    pub const NATIVE: u8 = 1;\n', '    pub const NATIVE: u8 = 1;\n'
     '    pub const HYBRID: u8 = 2;\n', 'host_mode::HYBRID is not in the spec'),
    (FAMILIES['router']['netlink'], 'PolicyEntry::new(AttrType::U16),    // PORT_MIN\n',
     'PolicyEntry::new(AttrType::U32),    // PORT_MIN\n',
     'POLICY[6] (PORT_MIN) is U32, the spec says U16'),
    (FAMILIES['router']['netlink'], 'PolicyEntry::new(AttrType::Reject), // HOST_AUTH',
     'PolicyEntry::new(AttrType::U8), // HOST_AUTH',
     'POLICY[38] (HOST_AUTH) is U8, the spec says Reject (output only'),
    (FAMILIES['router']['netlink'], 'PolicyEntry::new(AttrType::Be32),   // PEER_ADDR\n',
     'PolicyEntry::new(AttrType::U32),    // PEER_ADDR\n',
     'POLICY[29] (PEER_ADDR) is U32, the spec says Be32'),
    (FAMILIES['host']['netlink'], '    PolicyEntry::new(AttrType::U8),     // HOOK_COUNTERS\n',
     '', 'POLICY has 33 entries, the spec has 34 attributes'),
    (FAMILIES['host']['netlink'], 'const IFNAME: AttrType = AttrType::NulString(IFNAME_MAX as u16);',
     'const IFNAME: AttrType = AttrType::NulString(16);',
     'POLICY[6] (LAN_IFNAME) is NulString(16), the spec says NulString(15)'),
    (FAMILIES['router']['netlink'], 'm.put_u16(a::PORT_MIN, r.min)?;',
     'm.put_u32(a::PORT_MIN, r.min)?;',
     'router puts PORT_MIN as u32 (put_u32), the spec says u16'),
    (FAMILIES['host']['netlink'], 'm.put_u32(a::IDLE, e.idle)?;',
     'm.put_be32(a::IDLE, e.idle)?;',
     'host puts IDLE as big-endian u32 (put_be32), the spec says u32'),
    (FAMILIES['router']['netlink'], 'Op::dumpit::<GetBlocks>(cmd::GET_BLOCKS, true),',
     'Op::dumpit::<GetBlocks>(cmd::GET_BLOCKS, false),',
     'GET_BLOCKS is registered with admin false, the spec flags it uns-admin-perm'),
    (FAMILIES['router']['netlink'], 'McastGroup::new(ROUTER_MCGRP_EVENTS, true)',
     'McastGroup::new(ROUTER_MCGRP_EVENTS, false)',
     'MCGRPS: ROUTER_MCGRP_EVENTS is not admin-only'),
    (FAMILIES['host']['netlink'], 'Op::dumpit::<GetSas>(cmd::GET_SAS, false),',
     'Op::doit::<GetSas>(cmd::GET_SAS, false),',
     'GET_SAS is registered with Op::doit, the spec has dump'),
    (RST, '38 HOST_AUTH ', '38 HOST_AUTHS',
     'Attributes: row 38 says HOST_AUTHS NLA_REJECT, the spec says HOST_AUTH NLA_REJECT'),
    (RST, '17 SET_QUOTA     doit    yes', '17 SET_QUOTA     doit    no ',
     'Commands: row 17 says SET_QUOTA doit no, the spec says SET_QUOTA doit yes'),
    (MSG_RS, '            PortMin(_) | PortMax(_) => 2,\n',
     '            PortMin(_) | PortMax(_) => 4,\n',
     'RouterAttr::PortMin (PORT_MIN, u16): value_len is 4, the spec type needs 2'),
    (MSG_RS, 'host_attr::SPI => Self::Spi(parse_u32(v)', 'host_attr::SPI => Self::Spi(parse_addr(v)',
     'HostAttr decodes SPI (u32) with parse_addr, expected parse_u32'),
    (FUZZ_RS, 'a::PORT_MIN | a::PORT_MAX => Ty::U16,', 'a::PORT_MIN | a::PORT_MAX => Ty::U32,',
     'router_policy: PORT_MIN is Ty::U32, the spec says U16'),
    (FAMILIES['router']['netlink'], 'const LLADDR: AttrType = AttrType::Exact(6);',
     'const LLADDR: AttrType = AttrType::Exact(8);',
     'POLICY[47] (LLADDR) is Exact(8), the spec says Exact(6)'),
    (f"{FAMILIES['router']['dir']}/dumps.rs", 'm.put_binary(a::LLADDR, &mac)',
     'm.put_be32(a::LLADDR, mac)', 'router puts LLADDR as big-endian u32 (put_be32), the spec '
     'says binary'),
    (MSG_RS, '            Lladdr(_) => 6,\n', '            Lladdr(_) => 8,\n',
     'RouterAttr::Lladdr (LLADDR, binary): value_len is 8, the spec type needs 6'),
    (MSG_RS, 'Self::Lladdr(parse_binary(v)', 'Self::Lladdr(parse_u64(v)',
     'RouterAttr decodes LLADDR (binary) with parse_u64, expected parse_binary'),
    (FUZZ_RS, 'a::LLADDR => Ty::Lladdr,', 'a::LLADDR => Ty::U32,',
     'router_policy: LLADDR is Ty::U32, the spec says Exact(6)'),
    (WRAPPER, '#include <linux/dnat_host.h>', '',
     'does not #include <linux/dnat_host.h>'),
]


def self_test(ksrc, root):
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for rel in files(root):
            os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
            shutil.copy(os.path.join(root, rel), os.path.join(tmp, rel))
        errors = Checker(tmp, ksrc).run()
        if errors:
            print('ynl-check: self-test: the unbroken copy fails:', file=sys.stderr)
            print('\n'.join(errors), file=sys.stderr)
            return 1
        for rel, old, new, expect in BREAKAGES:
            path = os.path.join(tmp, rel)
            with open(path, encoding='utf-8') as f:
                orig = f.read()
            if orig.count(old) != 1:
                print(f'ynl-check: self-test: {rel}: the text to break occurs '
                      f'{orig.count(old)} times, not once: {old!r}', file=sys.stderr)
                bad = 1
                continue
            with open(path, 'w', encoding='utf-8') as f:
                f.write(orig.replace(old, new))
            errors = Checker(tmp, ksrc).run()
            with open(path, 'w', encoding='utf-8') as f:
                f.write(orig)
            if not any(expect in e for e in errors):
                print(f'ynl-check: self-test: {rel} broken ({old.strip()!r} -> {new.strip()!r}) '
                      f'was not reported as "{expect}"; the check said:', file=sys.stderr)
                print('\n'.join(errors) or '(nothing)', file=sys.stderr)
                bad = 1
    if not bad:
        print(f'ynl-check: self-test: the unbroken copy passes, all {len(BREAKAGES)} broken '
              'copies fail as expected')
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--ksrc', required=True, help='kernel source tree (tools/net/ynl)')
    ap.add_argument('--root', default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument('--write', action='store_true', help='regenerate the uAPI headers')
    ap.add_argument('--self-test', action='store_true')
    args = ap.parse_args()
    if args.self_test:
        return self_test(args.ksrc, args.root)
    errors = Checker(args.root, args.ksrc).run(write=args.write)
    for e in errors:
        print(f'ynl-check: {e}', file=sys.stderr)
    if errors:
        print(f'ynl-check: {len(errors)} mismatches with the YNL specs', file=sys.stderr)
        return 1
    if args.write:
        print('ynl-check: headers regenerated')
    else:
        print('ynl-check: the headers, uapi.rs, the policies, ops and attribute puts of the '
              "modules, dnat-netlink.rst, dnatctl's codecs and the fuzz model agree with the "
              'YNL specs')
    return 0


if __name__ == '__main__':
    sys.exit(main())
