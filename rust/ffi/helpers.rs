// SPDX-License-Identifier: GPL-2.0

//! The accessors of `helpers.h`: fields that bindgen can only reach
//! through anonymous unions and struct groups (`__bindgen_anon_N`), whose
//! numbering a kernel update can change without a compile error. The C
//! side names each field, so a moved or renamed field fails the build.

use kernel::ffi::{c_int, c_long};

use kernel::bindings;

// Only pointers cross: the zero-sized members bindgen gives some structs
// (`netdevice_tracker` without `CONFIG_NET_DEV_REFCNT_TRACKER`) are never
// passed by value, as in the kernel's own `bindings` crate.
#[allow(improper_ctypes)]
extern "C" {
    /// `skb->skb_iif`.
    pub(super) fn dnat_skb_iif(skb: *const bindings::sk_buff) -> c_int;
    /// `skb->skb_iif = iif`.
    pub(super) fn dnat_skb_set_iif(skb: *mut bindings::sk_buff, iif: c_int);
    /// `skb->dev = dev`.
    pub(super) fn dnat_skb_set_dev(skb: *mut bindings::sk_buff, dev: *mut bindings::net_device);
    /// `dst_dev(dst)`: `READ_ONCE(dst->dev)`.
    pub(super) fn dnat_dst_dev(dst: *const bindings::dst_entry) -> *mut bindings::net_device;
    /// `cb->args[0]`.
    pub(super) fn dnat_cb_cursor(cb: *const bindings::netlink_callback) -> c_long;
    /// `cb->args[0] = v`.
    pub(super) fn dnat_cb_set_cursor(cb: *mut bindings::netlink_callback, v: c_long);
    /// The Ethernet source of a received packet into `out` (6 bytes);
    /// `false` if it has none.
    pub(super) fn dnat_skb_eth_src(skb: *const bindings::sk_buff, out: *mut u8) -> bool;
    /// `skb_clear_tstamp(skb)`.
    pub(super) fn dnat_skb_clear_tstamp(skb: *mut bindings::sk_buff);
    /// `skb_forward_csum(skb)`.
    pub(super) fn dnat_skb_forward_csum(skb: *mut bindings::sk_buff);
    /// Zeroes `IPCB(skb)`, then sets its `iif` to `skb->skb_iif`.
    pub(super) fn dnat_skb_reset_ipcb(skb: *mut bindings::sk_buff);
}
