#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Checks the Prometheus output of `dnatctl router|host stats --prometheus`
with the reference parser (prometheus_client.parser of the Prometheus
Python client, Debian's python3-prometheus-client) against what dnatctl's
--json says. Test code.

    prom_check.py router PROM STATS1 STATS2 HOSTS1 HOSTS2
    prom_check.py host PROM STATS1 STATS2

PROM is the text; STATS1 and STATS2 are `--json ... stats` taken before
and after it, HOSTS1 and HOSTS2 `--json router hosts` likewise: each
value must lie between the two readings (the counters move while the
system runs). Every counter of the JSON must be a family of the right
type and name (dnat_MOD_NAME_total for counters, dnat_MOD_NAME for the
gauges); for the router every host must have its samples labelled
host="ADDR"; nothing may be left over or untyped. Prints one line per
problem and exits 1 if there is any, else prints a summary.
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

GAUGES = {"table_bytes", "netns_bytes", "sptt_bytes", "translations", "icmp_translations"}
# Per-host families of the router: (family, type, JSON key of router hosts).
HOST_FAMILIES = [
    ("host_in_packets", "counter", "in"),
    ("host_out_packets", "counter", "out"),
    ("host_in_bytes", "counter", "in_bytes"),
    ("host_out_bytes", "counter", "out_bytes"),
    ("host_spoofed_packets", "counter", "spoofed"),
    ("host_sa_dropped_packets", "counter", "sa_dropped"),
    ("host_ports", "gauge", "ports"),
    ("host_spis", "gauge", "spis"),
    ("host_quota_ports", "gauge", "quota_ports"),
    ("host_quota_spis", "gauge", "quota_spis"),
    ("host_revoked", "gauge", "revoked"),
    ("host_authenticated", "gauge", "auth"),
]

mod, prom = sys.argv[1], sys.argv[2]
load = lambda p: json.load(open(p))
stats1, stats2 = load(sys.argv[3])["stats"], load(sys.argv[4])["stats"]
problems = []
with open(prom) as f:
    families = {m.name: m for m in text_string_to_metric_families(f.read())}
seen = set()
samples = 0


def between(what, v, a, b):
    a, b = float(a), float(b)
    if not min(a, b) <= v <= max(a, b):
        problems.append(f"{what}: {v} is not between the JSON's {a} and {b}")


for name in stats2:
    gauge = name in GAUGES
    fam = f"dnat_{mod}_{name}"
    m = families.get(fam)
    seen.add(fam)
    if m is None:
        problems.append(f"{name}: no family {fam}")
        continue
    want = "gauge" if gauge else "counter"
    if m.type != want or not m.documentation:
        problems.append(f"{fam}: type {m.type} (want {want}), help {m.documentation!r}")
    sample = fam if gauge else fam + "_total"
    s = [x for x in m.samples if x.name == sample and not x.labels]
    if len(s) != 1 or len(m.samples) != 1:
        problems.append(f"{fam}: samples {m.samples}, want one {sample}")
        continue
    samples += 1
    between(sample, s[0].value, stats1.get(name, stats2[name]), stats2[name])

if mod == "router":
    hosts1 = {h["host"]: h for h in load(sys.argv[5])["hosts"]}
    hosts2 = {h["host"]: h for h in load(sys.argv[6])["hosts"]}
    m = families.get("dnat_router_hosts")
    seen.add("dnat_router_hosts")
    if m is None or m.type != "gauge" or len(m.samples) != 1:
        problems.append(f"dnat_router_hosts: {m}")
    else:
        samples += 1
        between("dnat_router_hosts", m.samples[0].value, len(hosts1), len(hosts2))
    for short, typ, key in HOST_FAMILIES:
        fam = f"dnat_router_{short}"
        seen.add(fam)
        m = families.get(fam)
        if m is None:
            problems.append(f"no family {fam}")
            continue
        if m.type != typ or not m.documentation:
            problems.append(f"{fam}: type {m.type} (want {typ}), help {m.documentation!r}")
        sample = fam + ("_total" if typ == "counter" else "")
        by_host = {}
        for x in m.samples:
            if x.name != sample or set(x.labels) != {"host"}:
                problems.append(f"{fam}: unexpected sample {x}")
            by_host[x.labels.get("host")] = x.value
        if set(by_host) != set(hosts2):
            problems.append(f"{fam}: hosts {sorted(by_host)}, the JSON has {sorted(hosts2)}")
        for addr, h in hosts2.items():
            if addr in by_host:
                samples += 1
                v1 = hosts1.get(addr, h)[key]
                between(f"{sample}{{host={addr}}}", by_host[addr], v1, h[key])

for name, m in families.items():
    if name not in seen:
        problems.append(f"{name}: not in the JSON ({m.type})")

for p in problems:
    print(p)
if problems:
    sys.exit(1)
print(f"{len(families)} families, {samples} samples agree with the JSON")
