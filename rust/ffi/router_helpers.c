// SPDX-License-Identifier: GPL-2.0
/* The ffi accessors, linked into dnat_router.ko. */
#include "helpers.c"
