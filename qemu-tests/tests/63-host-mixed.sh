#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# 60-host with one host in each delivery method at once (issue 19): h1
# direct, h2 through the module's tunnel.
set -euo pipefail
exec env DELIVERY=mixed bash "$(dirname "$0")/60-host.sh"
