#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# 40-datapath with one host in each delivery method at once (issue 19):
# h1 direct, h2 through its ipip tunnel.
set -euo pipefail
exec env DELIVERY=mixed bash "$(dirname "$0")/40-datapath.sh"
