#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Prints a progress line: elapsed seconds since the make run started, and a message.
. "$(dirname "$0")/lib.sh"
step "$*"
