// SPDX-License-Identifier: GPL-2.0

//! The thin layer of safe wrappers over the kernel's C bindings that the
//! dnat modules need and the kernel crate does not provide yet.
//!
//! Every `unsafe` block of the modules lives under this directory; module
//! logic above it is safe Rust. Each wrapper type documents its invariants.

pub mod defrag;
pub mod genl;
mod helpers;
pub mod net;
pub mod netfilter;
pub mod pernet;
pub mod rcu;
pub mod route;
pub mod skb;
