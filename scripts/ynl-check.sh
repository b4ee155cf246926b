#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The drift check of the generic netlink contract: the YNL specs
# Documentation/netlink/specs/dnat_router.yaml and dnat_host.yaml against
# the generated uAPI headers, rust/dnat-core/src/uapi.rs, the modules'
# POLICY and OPS tables, Documentation/networking/dnat-netlink.rst,
# dnatctl's attribute codecs and the nl_config fuzz target
# (scripts/ynl-check.py says what is compared).
#
#   scripts/ynl-check.sh              check; exit 1 on any difference
#   scripts/ynl-check.sh --write      regenerate include/uapi/linux/dnat_router.h
#                                     and dnat_host.h from the specs
#   scripts/ynl-check.sh --self-test  the check on copies broken on purpose:
#                                     each must fail, for the right reason
#
# It runs the YNL library and generator of the kernel tree
# (tools/net/ynl/pyynl, from the pristine source that
# scripts/build-kernel.sh --source downloads and unpacks if needed, never
# written to) with Debian's python3, python3-yaml and python3-jsonschema
# (scripts/setup-host.sh installs them).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PY=${DNAT_PYTHON:-/usr/bin/python3}
"$PY" -c 'import yaml, jsonschema' 2>/dev/null ||
	die "$PY cannot import yaml and jsonschema: install python3-yaml and python3-jsonschema (scripts/setup-host.sh)"
ksrc=$("$DNAT_TOP/scripts/build-kernel.sh" --source)
[ -f "$ksrc/tools/net/ynl/pyynl/ynl_gen_c.py" ] || die "no tools/net/ynl/pyynl/ynl_gen_c.py in $ksrc"
# Nothing may be written into the kernel source, bytecode included.
export PYTHONDONTWRITEBYTECODE=1
exec "$PY" "$DNAT_TOP/scripts/ynl-check.py" --ksrc "$ksrc" --root "$DNAT_TOP" "$@"
