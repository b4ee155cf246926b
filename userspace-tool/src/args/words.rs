// SPDX-License-Identifier: GPL-2.0

//! One word and its value: addresses, ranges, named numbers, Ethernet
//! addresses and quotas, each checked against its limit, and the split of
//! a list into `key value` pairs.

use std::net::Ipv4Addr;

use dnat_core::config::Range;
use dnat_core::direct::{parse_lladdr, Lladdr};

use crate::limit::{Limit, QUOTA, RAW_U8};

/// An Ethernet address `aa:bb:cc:dd:ee:ff` (whether it is unicast is for
/// the kernel to say).
pub fn lladdr(key: &str, value: &str) -> Result<Lladdr, String> {
    parse_lladdr(value).ok_or_else(|| {
        format!("{key}: \"{value}\" is not an Ethernet address (like 02:00:00:00:00:01)")
    })
}

/// `aa:bb:cc:dd:ee:ff`: one text for every output of an address.
pub use crate::show::lladdr as lladdr_text;

/// A host's own quota (`router quota`, a `[Host ADDR]` section of a
/// router's configuration file), within [`QUOTA`]; `default` says how to
/// have none, for a quota of 0.
pub fn own_quota(key: &str, value: &str, default: &str) -> Result<u32, String> {
    QUOTA.parse(key, value).map_err(|e| {
        if QUOTA.read(value).is_err() && value.bytes().all(|b| b == b'0') && !value.is_empty() {
            format!("{e}; {default}")
        } else {
            e
        }
    })
}

pub(super) fn option_value<'a>(
    it: &mut impl Iterator<Item = &'a String>,
    key: &str,
) -> Result<&'a str, String> {
    it.next()
        .map(String::as_str)
        .ok_or_else(|| format!("option \"{key}\" needs a value"))
}

/// Splits `args` into (key, value) pairs, checking that every key is one of
/// `keys` and is given once.
pub(super) fn pairs<'a>(
    args: &'a [String],
    keys: &[&str],
    usage: &str,
) -> Result<Vec<(&'a str, &'a str)>, String> {
    if args.is_empty() {
        return Err(format!("at least one setting is required: {usage}"));
    }
    let mut out: Vec<(&str, &str)> = Vec::new();
    let mut it = args.iter();
    while let Some(key) = it.next() {
        if !keys.contains(&key.as_str()) {
            return Err(format!("unknown setting \"{key}\"; expected {usage}"));
        }
        if out.iter().any(|(k, _)| k == key) {
            return Err(format!("setting \"{key}\" given twice"));
        }
        let Some(value) = it.next() else {
            return Err(format!("setting \"{key}\" needs a value"));
        };
        out.push((key, value));
    }
    Ok(out)
}

pub(super) fn addr(key: &str, value: &str) -> Result<Ipv4Addr, String> {
    addr_arg(value).map_err(|why| format!("{key}: \"{value}\" {why}"))
}

/// An IPv4 address, for clap arguments and the words alike.
pub fn addr_arg(s: &str) -> Result<Ipv4Addr, String> {
    s.parse()
        .map_err(|_| "is not an IPv4 address (like 203.0.113.30)".into())
}

/// `MIN-MAX`, each end within `limit` (whether MIN is above MAX is for
/// the kernel to say).
pub(super) fn range<T: TryFrom<u32>>(
    key: &str,
    value: &str,
    limit: Limit,
) -> Result<Range<T>, String> {
    let Some((min, max)) = value.split_once('-') else {
        return Err(format!("{key}: \"{value}\" is not a range MIN-MAX"));
    };
    let n = |s: &str| limit.arg::<T>()(s).map_err(|why| format!("{key}: \"{s}\" {why}"));
    Ok(Range {
        min: n(min)?,
        max: n(max)?,
    })
}

/// The names of a `u8` setting's values, as the words of `set` give them.
pub(super) type Names = [(&'static str, u8); 2];

/// One of the two `names` (with their values), or a number within
/// [`RAW_U8`] (sent as is, for the kernel to judge).
pub(super) fn named_u8(key: &str, value: &str, names: Names) -> Result<u8, String> {
    if let Some(&(_, v)) = names.iter().find(|(n, _)| *n == value) {
        return Ok(v);
    }
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return RAW_U8.arg::<u8>()(value).map_err(|why| format!("{key}: \"{value}\" {why}"));
    }
    let [(a, _), (b, _)] = names;
    Err(format!(
        "{key}: \"{value}\" is not {a}, {b} or a number ({RAW_U8})"
    ))
}

/// The word [`named_u8`] takes back for `v`: its name, or the number.
pub(super) fn u8_word(v: u8, names: Names) -> String {
    names
        .iter()
        .find(|(_, n)| *n == v)
        .map_or_else(|| v.to_string(), |(name, _)| (*name).to_owned())
}
