#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# 40-datapath with both hosts in direct delivery (issue 19): bound to
# their MACs, sending plain from the public address.
set -euo pipefail
exec env DELIVERY=direct bash "$(dirname "$0")/40-datapath.sh"
