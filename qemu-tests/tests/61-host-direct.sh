#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# 60-host with both hosts in direct delivery (issue 19): bound to their
# MACs by the router, set up by host-up.sh with delivery direct.
set -euo pipefail
exec env DELIVERY=direct bash "$(dirname "$0")/60-host.sh"
