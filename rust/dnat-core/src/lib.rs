// SPDX-License-Identifier: GPL-2.0

//! Kernel-independent logic of dnat.
//!
//! Every file under `src/` except this one and `store.rs` (heap-owned table
//! storage for tests, examples and fuzzing) is also compiled into the kernel
//! modules (`rust/dnat_router_main.rs`, `rust/dnat_host_main.rs` mount them
//! as `crate::dnat_core`), so the files use only `core`, refer to each other
//! through `super::`, and never panic on input.
//! Here they are a normal `no_std` crate, unit-tested with `cargo test` and
//! shared with the userspace tool.

#![no_std]

#[cfg(test)]
extern crate std;

pub mod alloc_table;
pub mod checksum;
pub mod classify;
pub mod config;
pub mod direct;
pub mod events;
pub mod hooks;
pub mod host_events;
pub mod icmp;
pub mod ipv4;
pub mod out_sa;
pub mod pap;
pub mod pap_auth;
pub mod pap_client;
pub mod pap_keys;
pub mod pap_server;
pub mod pap_serving;
pub mod pap_session;
pub mod router_events;
pub mod router_path;
pub mod sa_table;
pub mod siphash;
pub mod sptt;
pub mod stat;
pub mod store;
pub mod uapi;
