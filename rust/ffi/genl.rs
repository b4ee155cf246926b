// SPDX-License-Identifier: GPL-2.0

//! Generic netlink families with request handlers.
//!
//! The kernel crate's `net::netlink` (7.3) registers families that only
//! multicast. This file adds what a control interface needs, in the same
//! style: a static [`Family`] with an attribute [`Policy`] and [`Op`]s whose
//! handlers implement [`DoIt`] (one request, one reply) or [`DumpIt`]
//! (multi-part replies), safe views of a request ([`Request`], [`Dump`]) and
//! a message builder ([`Msg`]); and, as the kernel crate's family does,
//! multicast groups ([`McastGroup`]), here per network namespace:
//! [`Family::has_listeners`] and [`Family::notify`] act on one namespace's
//! listeners (the kernel crate's act on `init_net`'s).
//!
//! Attributes are validated by the kernel against the policy before a
//! handler runs (strict: unknown attributes and wrong lengths are rejected),
//! and commands marked admin require `CAP_NET_ADMIN` in the user namespace
//! owning the caller's network namespace (`GENL_UNS_ADMIN_PERM`).
//!
//! C header: [`include/net/genetlink.h`].

use core::ffi::CStr;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, Ordering};

use kernel::{bindings, error::to_result, prelude::*, types::Opaque, ThisModule};

use super::helpers;
use super::net::Net;

/// `GENL_MCAST_CAP_NET_ADMIN` (`include/net/genetlink.h`, a `BIT(0)` macro
/// that bindgen does not translate): joining the group needs
/// `CAP_NET_ADMIN` in the user namespace owning the network namespace.
const GENL_MCAST_CAP_NET_ADMIN: u8 = 1 << 0;

/// Room for one notification's attributes (`genlmsg_new` adds the headers).
const NOTIFY_SIZE: usize = 512;

// `NETLINK_CB` fits in `sk_buff::cb` (48 bytes: `notify` names its type;
// the kernel checks the same).
const _: () = assert!(
    core::mem::size_of::<bindings::netlink_skb_parms>() <= core::mem::size_of::<[c_char; 48]>()
);

/// Type of one attribute in a [`Policy`].
#[derive(Clone, Copy)]
pub enum AttrType {
    /// Not accepted from userspace (reserved or output-only attributes).
    Reject,
    /// 8-bit unsigned integer.
    U8,
    /// 16-bit unsigned integer, host byte order.
    U16,
    /// 32-bit unsigned integer, host byte order.
    U32,
    /// 64-bit unsigned integer, host byte order.
    U64,
    /// 32-bit value in network byte order (an IPv4 address).
    Be32,
    /// NUL-terminated string of at most this many bytes before the NUL.
    NulString(u16),
    /// Bytes, exactly this many (`NLA_POLICY_EXACT_LEN`).
    Exact(u16),
}

/// One attribute's policy (`struct nla_policy`).
#[repr(transparent)]
pub struct PolicyEntry(bindings::nla_policy);

impl PolicyEntry {
    /// The policy for one attribute type.
    pub const fn new(t: AttrType) -> Self {
        let mut p: bindings::nla_policy = pin_init::zeroed();
        let (ty, len) = match t {
            AttrType::Reject => (bindings::NLA_REJECT, 0),
            AttrType::U8 => (bindings::NLA_U8, 0),
            AttrType::U16 => (bindings::NLA_U16, 0),
            AttrType::U32 => (bindings::NLA_U32, 0),
            AttrType::U64 => (bindings::NLA_U64, 0),
            AttrType::Be32 => (bindings::NLA_BE32, 0),
            AttrType::NulString(max) => (bindings::NLA_NUL_STRING, max),
            AttrType::Exact(n) => {
                // `NLA_POLICY_RANGE(NLA_BINARY, n, n)`: the length is
                // checked against `min` and `max`. A policy's lengths fit
                // in an `s16`.
                p.validation_type = bindings::nla_policy_validation_NLA_VALIDATE_RANGE as u8;
                p.__bindgen_anon_1.__bindgen_anon_1 =
                    bindings::nla_policy__bindgen_ty_1__bindgen_ty_1 {
                        min: n as i16,
                        max: n as i16,
                    };
                (bindings::NLA_BINARY, 0)
            }
        };
        p.type_ = ty as u8;
        p.len = len;
        Self(p)
    }
}

/// An attribute policy indexed by attribute type; entry 0 is the reserved
/// `UNSPEC` type and should be [`AttrType::Reject`].
pub type Policy = [PolicyEntry];

// SAFETY: a policy is immutable data; its union only ever holds plain
// values here (no pointers are set by `PolicyEntry::new`).
unsafe impl Sync for PolicyEntry {}

/// A handler for a request answered with (at most) one message.
pub trait DoIt {
    /// Handles `req`. An error is returned to the caller as a netlink error
    /// (with the extended ack message set through [`Request::set_error`]).
    fn doit(req: &Request<'_>) -> Result;
}

/// A handler for a dump request (`NLM_F_DUMP`), called until it adds no
/// message.
pub trait DumpIt {
    /// Adds messages from [`Dump::cursor`] on, and advances the cursor past
    /// what it added.
    fn dumpit(dump: &mut Dump<'_>) -> Result;
}

/// One command of a family (`struct genl_ops`).
#[repr(transparent)]
pub struct Op(bindings::genl_ops);

// SAFETY: immutable after construction; contains only function pointers
// and integers (the policy pointer is null: the family's policy applies).
unsafe impl Sync for Op {}

impl Op {
    const fn base(cmd: u8, admin: bool) -> bindings::genl_ops {
        let mut op: bindings::genl_ops = pin_init::zeroed();
        op.cmd = cmd;
        op.flags = if admin {
            bindings::GENL_UNS_ADMIN_PERM as u8
        } else {
            0
        };
        op
    }

    /// Command `cmd` answered by `H`; `admin` requires `CAP_NET_ADMIN`.
    pub const fn doit<H: DoIt>(cmd: u8, admin: bool) -> Self {
        let mut op = Self::base(cmd, admin);
        op.doit = Some(doit_trampoline::<H>);
        Self(op)
    }

    /// Dump command `cmd` answered by `H`; `admin` requires `CAP_NET_ADMIN`.
    pub const fn dumpit<H: DumpIt>(cmd: u8, admin: bool) -> Self {
        let mut op = Self::base(cmd, admin);
        op.dumpit = Some(dumpit_trampoline::<H>);
        Self(op)
    }
}

/// A multicast group of a family (`struct genl_multicast_group`).
#[repr(transparent)]
pub struct McastGroup(bindings::genl_multicast_group);

// SAFETY: immutable plain data (a name and flags).
unsafe impl Sync for McastGroup {}

impl McastGroup {
    /// Group `name`; `admin`: joining needs `CAP_NET_ADMIN` in the user
    /// namespace owning the network namespace (`GENL_MCAST_CAP_NET_ADMIN`).
    pub const fn new(name: &CStr, admin: bool) -> Self {
        let mut g: bindings::genl_multicast_group = pin_init::zeroed();
        let name = name.to_bytes_with_nul();
        assert!(name.len() <= g.name.len());
        let mut i = 0;
        while i < name.len() {
            g.name[i] = name[i] as c_char;
            i += 1;
        }
        g.flags = if admin { GENL_MCAST_CAP_NET_ADMIN } else { 0 };
        Self(g)
    }
}

/// A generic netlink family with its policy, commands and multicast
/// groups.
///
/// # Invariants
///
/// `inner.policy`/`inner.maxattr` describe a static policy of `maxattr + 1`
/// entries, `inner.ops`/`inner.n_ops` a static array of ops and
/// `inner.mcgrps`/`inner.n_mcgrps` a static array of groups; the kernel
/// writes the private fields (`id`, `mcgrp_offset`, ...) only while
/// registering and unregistering, which `registered` serialises. `live` is
/// true only between a successful registration and the start of its
/// unregistration; it is read, and the family's group numbers used, only
/// inside RCU read-side sections, and the unregistration clears it and
/// waits for a grace period before the kernel frees the groups.
pub struct Family {
    inner: Opaque<bindings::genl_family>,
    registered: AtomicBool,
    live: AtomicBool,
}

// SAFETY: see the type invariants: after construction only the kernel
// writes the struct, under its own locking, during (un)registration.
unsafe impl Sync for Family {}

impl Family {
    /// A per-namespace family `name`, `version`, with `policy`, `ops` and
    /// multicast groups `mcgrps` (numbered from 0 in this order).
    ///
    /// Every command number must appear once; all commands get strict
    /// validation (`resv_start_op` is 1, the first command).
    pub const fn new(
        module: &'static ThisModule,
        name: &CStr,
        version: u8,
        policy: &'static Policy,
        ops: &'static [Op],
        mcgrps: &'static [McastGroup],
    ) -> Self {
        let mut f: bindings::genl_family = pin_init::zeroed();
        let name = name.to_bytes_with_nul();
        assert!(name.len() <= f.name.len());
        let mut i = 0;
        while i < name.len() {
            f.name[i] = name[i];
            i += 1;
        }
        assert!(!policy.is_empty() && ops.len() <= u8::MAX as usize);
        f.version = version as c_uint;
        f.maxattr = (policy.len() - 1) as c_uint;
        f.policy = policy.as_ptr().cast();
        f.ops = ops.as_ptr().cast();
        f.n_ops = ops.len() as u8;
        assert!(mcgrps.len() <= u8::MAX as usize);
        f.mcgrps = mcgrps.as_ptr().cast();
        f.n_mcgrps = mcgrps.len() as u8;
        f.resv_start_op = 1;
        f.module = module.as_ptr();
        // netnsok (bit 0) and parallel_ops (bit 1), as in
        // `kernel::net::netlink::FamilyFlags` (which the kernel tests).
        // SAFETY: the bitfield unit is a one-byte array.
        f._bitfield_1 =
            unsafe { core::mem::transmute::<u8, bindings::__BindgenBitfieldUnit<[u8; 1]>>(0b11) };
        Self {
            inner: Opaque::new(f),
            registered: AtomicBool::new(false),
            live: AtomicBool::new(false),
        }
    }

    /// The kernel's number of the family's group `group` (the family's
    /// group offset plus `group`), `None` while the family is not
    /// registered, `EINVAL` for a group the family does not have: call
    /// inside an RCU read-side section, and use the number only there
    /// (type invariants).
    fn group_number(&self, group: u8, _rcu: &kernel::sync::rcu::Guard) -> Result<Option<u32>> {
        if !self.live.load(Ordering::Acquire) {
            return Ok(None);
        }
        let f = self.inner.get();
        // SAFETY: registered (`live`), so the kernel has written the
        // family's group fields and does not change them until the
        // unregistration, which waits for this read-side section.
        let (n, offset) = unsafe { ((*f).n_mcgrps, (*f).mcgrp_offset) };
        if group >= n {
            return Err(EINVAL);
        }
        Ok(Some(offset + u32::from(group)))
    }

    /// Whether anybody in `net` (or listening to every namespace) has
    /// joined group `group`; `false` while the family is not registered,
    /// and for a group it does not have. Cheap (a bit test); callable
    /// from any context.
    pub fn has_listeners(&self, net: &Net, group: u8) -> bool {
        let rcu = kernel::sync::rcu::read_lock();
        let Ok(Some(g)) = self.group_number(group, &rcu) else {
            return false;
        };
        // SAFETY: `genl_sock` of a live namespace is a valid kernel
        // netlink socket (`Net::genl_sock`); `g` is one of our groups.
        unsafe { bindings::netlink_has_listeners(net.genl_sock(), g) != 0 }
    }

    /// Builds a message with command `cmd` whose attributes `fill` adds
    /// and multicasts it to group `group` in `net` (as the C inline
    /// `genlmsg_multicast_netns`, which the kernel does not export: its
    /// header, `NETLINK_CB(skb).dst_group` and the exported
    /// `netlink_broadcast` on the namespace's generic netlink socket).
    /// Process context (the buffer is allocated with `GFP_KERNEL`; the
    /// copies for the listeners with `GFP_ATOMIC`). Does nothing, with
    /// success, while the family is not registered; `EINVAL` for a group
    /// it does not have, `EMSGSIZE` when the attributes do not fit,
    /// `ESRCH` when nobody listens, `ENOBUFS` when a listener's queue was
    /// full.
    pub fn notify(
        &self,
        net: &Net,
        group: u8,
        cmd: u8,
        fill: impl FnOnce(&mut Msg) -> Result,
    ) -> Result {
        // SAFETY: plain allocation.
        let skb = unsafe { bindings::genlmsg_new(NOTIFY_SIZE, bindings::GFP_KERNEL) };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        let skb = OwnedSkb(skb);
        // SAFETY: `skb` is a fresh message buffer; the family is static.
        let hdr = unsafe { bindings::genlmsg_put(skb.0, 0, 0, self.inner.get(), 0, cmd) };
        if hdr.is_null() {
            return Err(EMSGSIZE);
        }
        fill(&mut Msg { skb: skb.0 })?;
        // SAFETY: `hdr` is the header put above in `skb`.
        unsafe { bindings::genlmsg_end(skb.0, hdr) };
        let rcu = kernel::sync::rcu::read_lock();
        let Some(g) = self.group_number(group, &rcu)? else {
            return Ok(());
        };
        let raw = skb.into_raw();
        // SAFETY: `raw` is our valid buffer; this takes the address of its
        // control buffer.
        let cb: *mut [c_char; 48] = unsafe { &raw mut (*raw).cb };
        // SAFETY: a netlink message's control buffer holds its `struct
        // netlink_skb_parms` (what `NETLINK_CB` reads), which fits in it
        // (checked below) at its alignment of 8; we own the buffer.
        unsafe { (*cb.cast::<bindings::netlink_skb_parms>()).dst_group = g };
        // SAFETY: `genl_sock` of a live namespace is valid (as in
        // `has_listeners`); `g` is our group, valid until the read-side
        // section ends; `netlink_broadcast` takes `raw` in every case.
        let r = unsafe {
            bindings::netlink_broadcast(net.genl_sock(), raw, 0, g, bindings::GFP_ATOMIC)
        };
        drop(rcu);
        to_result(r.min(0))
    }

    /// Registers the family. Fails with `EBUSY` if already registered.
    pub fn register(&'static self) -> Result<FamilyRegistration> {
        if self.registered.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // SAFETY: the family is static and valid (type invariants).
        if let Err(e) = to_result(unsafe { bindings::genl_register_family(self.inner.get()) }) {
            self.registered.store(false, Ordering::Release);
            return Err(e);
        }
        self.live.store(true, Ordering::Release);
        Ok(FamilyRegistration { family: self })
    }
}

/// A registered family; dropping it unregisters the family, after which no
/// handler runs.
pub struct FamilyRegistration {
    family: &'static Family,
}

impl Drop for FamilyRegistration {
    fn drop(&mut self) {
        // No new notification; those under way (in read-side sections)
        // end before the kernel gives the family's groups up.
        self.family.live.store(false, Ordering::Release);
        // SAFETY: process context (module unload), no lock held.
        unsafe { bindings::synchronize_rcu() };
        // SAFETY: registered by `Family::register` (we hold the registration).
        unsafe { bindings::genl_unregister_family(self.family.inner.get()) };
        self.family.registered.store(false, Ordering::Release);
    }
}

/// Reads attribute `t` from an attribute table of `maxattr + 1` entries.
///
/// # Safety
///
/// `attrs` is null or points to `maxattr + 1` entries, each null or pointing
/// to an attribute validated against the family's policy, alive for `'a`.
unsafe fn attr_bytes<'a>(
    attrs: *mut *mut bindings::nlattr,
    maxattr: c_uint,
    t: u16,
) -> Option<&'a [u8]> {
    if attrs.is_null() || c_uint::from(t) > maxattr {
        return None;
    }
    // SAFETY: `t <= maxattr`, within the table (function safety contract).
    let nla = unsafe { *attrs.add(usize::from(t)) };
    if nla.is_null() {
        return None;
    }
    // SAFETY: `nla` is a valid attribute; `nla_data` points to `nla_len`
    // bytes of payload inside the request, alive for `'a`.
    Some(unsafe {
        core::slice::from_raw_parts(
            bindings::nla_data(nla).cast::<u8>(),
            usize::from(bindings::nla_len(nla)),
        )
    })
}

fn fixed<const N: usize>(b: Option<&[u8]>) -> Option<[u8; N]> {
    b.and_then(|b| b.try_into().ok())
}

/// A request being handled by a [`DoIt`] handler.
///
/// # Invariants
///
/// `skb` and `info` are the valid request buffer and parsed request that
/// generic netlink passed to the handler, alive for `'a`.
pub struct Request<'a> {
    info: *mut bindings::genl_info,
    _p: PhantomData<&'a ()>,
}

impl<'a> Request<'a> {
    fn info(&self) -> &bindings::genl_info {
        // SAFETY: valid for `'a` (type invariant).
        unsafe { &*self.info }
    }

    fn maxattr(&self) -> c_uint {
        // SAFETY: `family` of a request is the registered static family.
        unsafe { (*self.info().family).maxattr }
    }

    /// The namespace of the requesting socket.
    pub fn net(&self) -> &'a Net {
        // SAFETY: the request holds a reference on its socket's namespace
        // for the whole handler call (`'a`).
        unsafe { Net::from_raw(bindings::genl_info_net(self.info)) }
    }

    /// The payload of attribute `t`, if present.
    pub fn attr(&self, t: u16) -> Option<&'a [u8]> {
        // SAFETY: `attrs` is the table genetlink parsed for this request,
        // sized by the family's `maxattr` and alive for `'a`.
        unsafe { attr_bytes(self.info().attrs, self.maxattr(), t) }
    }

    /// Attribute `t` as a `u8` (policy [`AttrType::U8`]).
    pub fn u8(&self, t: u16) -> Option<u8> {
        fixed(self.attr(t)).map(u8::from_ne_bytes)
    }

    /// Attribute `t` as a `u16` (policy [`AttrType::U16`]).
    pub fn u16(&self, t: u16) -> Option<u16> {
        fixed(self.attr(t)).map(u16::from_ne_bytes)
    }

    /// Attribute `t` as a `u32` (policy [`AttrType::U32`]).
    pub fn u32(&self, t: u16) -> Option<u32> {
        fixed(self.attr(t)).map(u32::from_ne_bytes)
    }

    /// Attribute `t` as four bytes in network order (policy [`AttrType::Be32`]).
    pub fn be32(&self, t: u16) -> Option<[u8; 4]> {
        fixed(self.attr(t))
    }

    /// Attribute `t` as `N` bytes (policy [`AttrType::Exact`] of `N`).
    pub fn exact<const N: usize>(&self, t: u16) -> Option<[u8; N]> {
        fixed(self.attr(t))
    }

    /// Attribute `t` as a string without its NUL (policy
    /// [`AttrType::NulString`]).
    pub fn string(&self, t: u16) -> Option<&'a [u8]> {
        let b = self.attr(t)?;
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        Some(&b[..end])
    }

    /// Sets the extended ack message (and the offending attribute) returned
    /// with the error.
    pub fn set_error(&self, msg: &'static CStr, attr: Option<u16>) {
        let ext = self.info().extack;
        if ext.is_null() {
            return;
        }
        let bad = match attr {
            // SAFETY: `attrs` is non-null, the table genetlink parsed for
            // this request with `maxattr + 1` entries, alive for `'a`, and
            // `t <= maxattr` was checked just before.
            Some(t) if !self.info().attrs.is_null() && c_uint::from(t) <= self.maxattr() => unsafe {
                *self.info().attrs.add(usize::from(t))
            },
            _ => core::ptr::null_mut(),
        };
        // SAFETY: `ext` is the request's extack, valid and ours during the
        // handler; `msg` is static, as `_msg` requires.
        unsafe { (*ext)._msg = msg.as_char_ptr() };
        if !bad.is_null() {
            // SAFETY: `ext` is the request's extack, valid during the
            // handler; `bad` points into this request's attribute table,
            // alive as long as the request.
            unsafe { (*ext).bad_attr = bad };
        }
    }

    /// Sends a reply with command `cmd` whose attributes `fill` adds.
    pub fn reply(&self, cmd: u8, fill: impl FnOnce(&mut Msg) -> Result) -> Result {
        let skb = OwnedSkb::new()?;
        // SAFETY: `skb` is a fresh message buffer, `info` and its family are
        // valid.
        let hdr =
            unsafe { bindings::genlmsg_put_reply(skb.0, self.info, self.info().family, 0, cmd) };
        if hdr.is_null() {
            return Err(EMSGSIZE);
        }
        fill(&mut Msg { skb: skb.0 })?;
        // SAFETY: `hdr` is the header put above in `skb`.
        unsafe { bindings::genlmsg_end(skb.0, hdr) };
        let raw = skb.into_raw();
        // SAFETY: `genlmsg_reply` takes ownership of `raw` in all cases.
        to_result(unsafe { bindings::genlmsg_reply(raw, self.info) })
    }
}

/// A netlink message buffer owned by us until sent.
///
/// # Invariants
///
/// Points to a valid `sk_buff` from `genlmsg_new` that we own.
struct OwnedSkb(*mut bindings::sk_buff);

impl OwnedSkb {
    fn new() -> Result<Self> {
        // SAFETY: plain allocation.
        let skb =
            unsafe { bindings::genlmsg_new(bindings::GENLMSG_DEFAULT_SIZE, bindings::GFP_KERNEL) };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        Ok(Self(skb))
    }

    fn into_raw(self) -> *mut bindings::sk_buff {
        let p = self.0;
        core::mem::forget(self);
        p
    }
}

impl Drop for OwnedSkb {
    fn drop(&mut self) {
        // SAFETY: we own the buffer (type invariant).
        unsafe { bindings::nlmsg_free(self.0) };
    }
}

/// A message under construction: adds attributes.
///
/// # Invariants
///
/// `skb` is a valid message buffer with an open generic netlink header.
pub struct Msg {
    skb: *mut bindings::sk_buff,
}

impl Msg {
    fn put(&mut self, t: u16, data: &[u8]) -> Result {
        let len = c_int::try_from(data.len()).map_err(|_| EMSGSIZE)?;
        // SAFETY: `skb` is valid (type invariant); `data` is readable for
        // `len` bytes. `nla_put` fails with -EMSGSIZE when there is no room.
        to_result(unsafe { bindings::nla_put(self.skb, c_int::from(t), len, data.as_ptr().cast()) })
    }

    /// Adds a `u8` attribute.
    pub fn put_u8(&mut self, t: u16, v: u8) -> Result {
        self.put(t, &[v])
    }

    /// Adds a binary attribute: the bytes of `v`.
    pub fn put_binary(&mut self, t: u16, v: &[u8]) -> Result {
        self.put(t, v)
    }

    /// Adds a flag attribute (no payload).
    pub fn put_flag(&mut self, t: u16) -> Result {
        self.put(t, &[])
    }

    /// Adds a string attribute made of `parts` concatenated, NUL-terminated
    /// (at most 63 bytes before the NUL).
    pub fn put_str(&mut self, t: u16, parts: &[&str]) -> Result {
        let mut buf = [0u8; 64];
        let mut n = 0;
        for p in parts {
            let end = n + p.len();
            buf.get_mut(n..end)
                .ok_or(EINVAL)?
                .copy_from_slice(p.as_bytes());
            n = end;
        }
        if n >= buf.len() {
            return Err(EINVAL);
        }
        self.put(t, buf.get(..=n).ok_or(EINVAL)?)
    }

    /// Adds a `u16` attribute.
    pub fn put_u16(&mut self, t: u16, v: u16) -> Result {
        self.put(t, &v.to_ne_bytes())
    }

    /// Adds a `u32` attribute.
    pub fn put_u32(&mut self, t: u16, v: u32) -> Result {
        self.put(t, &v.to_ne_bytes())
    }

    /// Adds four bytes in network order (an IPv4 address).
    pub fn put_be32(&mut self, t: u16, v: [u8; 4]) -> Result {
        self.put(t, &v)
    }

    /// Adds a NUL-terminated string given with its NUL.
    pub fn put_string_with_nul(&mut self, t: u16, s: &[u8]) -> Result {
        if s.last() != Some(&0) {
            return Err(EINVAL);
        }
        self.put(t, s)
    }

    /// Adds a `u64` attribute, aligned with a `pad` attribute if needed.
    pub fn put_u64(&mut self, t: u16, v: u64, pad: u16) -> Result {
        let b = v.to_ne_bytes();
        // SAFETY: `skb` is valid (type invariant); `b` is readable for its
        // 8 bytes. `nla_put_64bit` fails with -EMSGSIZE when there is no
        // room.
        to_result(unsafe {
            bindings::nla_put_64bit(
                self.skb,
                c_int::from(t),
                8,
                b.as_ptr().cast(),
                c_int::from(pad),
            )
        })
    }
}

/// A dump in progress, seen by a [`DumpIt`] handler.
///
/// # Invariants
///
/// `skb` is the reply buffer and `cb` the dump callback state genetlink
/// passed to the handler, valid for `'a`; `info` is `genl_info_dump(cb)`.
pub struct Dump<'a> {
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
    info: *const bindings::genl_info,
    _p: PhantomData<&'a ()>,
}

impl<'a> Dump<'a> {
    /// The namespace of the requesting socket.
    pub fn net(&self) -> &'a Net {
        // SAFETY: the dump holds its socket, whose namespace is live for the
        // whole handler call (`'a`).
        unsafe { Net::from_raw(bindings::genl_info_net(self.info)) }
    }

    /// Where the previous call stopped (0 on the first call).
    pub fn cursor(&self) -> usize {
        // SAFETY: `cb` is valid (type invariant); `args` is plain data that
        // only this dump uses.
        let v = unsafe { helpers::dnat_cb_cursor(self.cb) };
        usize::try_from(v).unwrap_or(usize::MAX)
    }

    /// Records where the next call starts.
    pub fn set_cursor(&mut self, v: usize) {
        // SAFETY: `cb` is valid (type invariant); `args` is plain data that
        // only this dump uses, and nothing else holds a reference to it.
        unsafe { helpers::dnat_cb_set_cursor(self.cb, c_long::try_from(v).unwrap_or(c_long::MAX)) };
    }

    /// Dumps the items `get(i)`, `i` counting from the cursor, one message
    /// with command `cmd` each (attributes by `fill`), until `get` returns
    /// `None` or the buffer is full; the cursor is left on the first item
    /// not sent, where the next call resumes.
    pub fn indexed<T>(
        &mut self,
        cmd: u8,
        mut get: impl FnMut(usize) -> Option<T>,
        mut fill: impl FnMut(&mut Msg, T) -> Result,
    ) -> Result {
        let mut i = self.cursor();
        while let Some(item) = get(i) {
            if !self.entry(cmd, |m| fill(m, item))? {
                break;
            }
            i += 1;
        }
        self.set_cursor(i);
        Ok(())
    }

    /// Adds one message with command `cmd` whose attributes `fill` adds.
    /// Returns `Ok(false)`, adding nothing, when the buffer is full: stop and
    /// continue from the same entry on the next call.
    pub fn entry(&mut self, cmd: u8, fill: impl FnOnce(&mut Msg) -> Result) -> Result<bool> {
        // SAFETY: valid pointers (type invariant); `family` is the static
        // registered family.
        let hdr = unsafe {
            let info = &*self.info;
            bindings::genlmsg_put(
                self.skb,
                info.snd_portid,
                info.snd_seq,
                info.family,
                bindings::NLM_F_MULTI as c_int,
                cmd,
            )
        };
        if hdr.is_null() {
            return Ok(false);
        }
        match fill(&mut Msg { skb: self.skb }) {
            Ok(()) => {
                // SAFETY: `hdr` is the header just put in `skb`.
                unsafe { bindings::genlmsg_end(self.skb, hdr) };
                Ok(true)
            }
            Err(e) => {
                // SAFETY: `hdr` is the header just put in `skb`; this removes
                // the partial message.
                unsafe { bindings::genlmsg_cancel(self.skb, hdr) };
                if e == EMSGSIZE {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }
}

/// Calls `H::doit` for a request.
///
/// # Safety
///
/// Only genetlink may call it, as the `doit` of a registered family's op,
/// with the request buffer and its parsed `genl_info`.
unsafe extern "C" fn doit_trampoline<H: DoIt>(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> c_int {
    // INVARIANT: genetlink passes a valid parsed request for this call.
    let req = Request {
        info,
        _p: PhantomData,
    };
    match H::doit(&req) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Calls `H::dumpit` for one part of a dump.
///
/// # Safety
///
/// Only genetlink may call it, as the `dumpit` of a registered family's op,
/// with the reply buffer and the dump's callback state.
unsafe extern "C" fn dumpit_trampoline<H: DumpIt>(
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
) -> c_int {
    // SAFETY: genetlink calls dumpit with a valid `cb` of a dump it started
    // (so `genl_info_dump` is valid).
    let info = unsafe { bindings::genl_info_dump(cb) };
    // INVARIANT: valid buffer, callback and info for this call.
    let mut dump = Dump {
        skb,
        cb,
        info,
        _p: PhantomData,
    };
    match H::dumpit(&mut dump) {
        // SAFETY: `skb` is valid; a non-zero length asks for another call.
        Ok(()) => unsafe { (*skb).len as c_int },
        Err(e) => e.to_errno(),
    }
}
