// SPDX-License-Identifier: GPL-2.0

//! The limits of every number dnatctl reads, each defined once: from
//! dnat-core's rules for what the kernel accepts (the pools, quotas, PAP
//! rate, timeouts, block sizes) or from the width of the field that
//! carries the number. The word parsers (`args/`, and through them the
//! configuration files), the clap arguments, their error messages and the
//! help texts all take them from here: a number outside its limit is a
//! usage error (exit 2), and the kernel is not asked. How numbers relate
//! (an inverted range) is left to the kernel.

use std::fmt;

use dnat_core::config::{HostTimeouts, PAP_RATE_MAX, SPI_FIRST_ALLOCATABLE};

/// The numbers `min..=max`, and how they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub min: u32,
    pub max: u32,
    /// `0x` hex allowed besides decimal (SPIs); otherwise decimal digits
    /// only (no sign, no `+`).
    pub hex: bool,
    /// What the number is, after "is not": `a number`, `an SPI`, ...
    pub noun: &'static str,
}

const fn decimal(min: u32, max: u32, noun: &'static str) -> Limit {
    Limit {
        min,
        max,
        hex: false,
        noun,
    }
}

/// A port of a pool or a block: port 0 cannot be allocated (dnat-core's
/// `RouterUpdate::check`, `PortBlock::check`).
pub const PORT: Limit = decimal(1, u16::MAX as u32, "a port number");
/// An SPI of a pool, a block, an SA or a blacklist entry: 0 means no SA
/// and 1 to 255 are reserved (`SPI_FIRST_ALLOCATABLE`).
pub const SPI: Limit = Limit {
    min: SPI_FIRST_ALLOCATABLE,
    max: u32::MAX,
    hex: true,
    noun: "an SPI",
};
/// A quota of ports or SPIs per host (`quota-ports`, `quota-spis`,
/// `router quota`): a quota of 0 would refuse every host.
pub const QUOTA: Limit = decimal(1, u32::MAX, "a number");
/// `pap-rate`: requests a second per host, 0 for no limit.
pub const PAP_RATE: Limit = decimal(0, PAP_RATE_MAX, "a number");
/// `tcp-timeout` and `udp-timeout`, in seconds.
pub const TIMEOUT: Limit = decimal(1, HostTimeouts::MAX, "a number of seconds");
/// Ports of one PAP request or block (`port-block`, `host request
/// ports`, `pap request ports`, the releases): a `PortBlock`'s count is a
/// u8, and 0 asks for nothing.
pub const PORT_COUNT: Limit = decimal(1, u8::MAX as u32, "a number");
/// SPIs of one PAP request or block: a `SpiBlock`'s count is a u16.
pub const SPI_COUNT: Limit = decimal(1, u16::MAX as u32, "a number");
/// `lease SECONDS` of a PAP request: 0 asks for the router's default.
pub const LEASE: Limit = decimal(0, u32::MAX, "a number of seconds");
/// The number given for a named value (`unowned 7`): the u8 attribute
/// carries any; which the kernel knows is for it to say.
pub const RAW_U8: Limit = decimal(0, u8::MAX as u32, "a number");
/// `host spi alloc --reqid`: the XFRM reqid, a u32.
pub const REQID: Limit = decimal(0, u32::MAX, "a number");
/// `host follow --interval`: at least a second, at most a day.
pub const INTERVAL: Limit = decimal(1, 86_400, "a number of seconds");
/// `ca serve --max-validity`: at least a minute, the shortest certificate
/// the CA issues (`ca::issue::MIN_VALIDITY`).
pub const VALIDITY: Limit = decimal(60, u32::MAX, "a number of seconds");

/// Every limit, with its name, for the tests of each at its ends.
#[cfg(test)]
pub const ALL: [(&str, Limit); 12] = [
    ("PORT", PORT),
    ("SPI", SPI),
    ("QUOTA", QUOTA),
    ("PAP_RATE", PAP_RATE),
    ("TIMEOUT", TIMEOUT),
    ("PORT_COUNT", PORT_COUNT),
    ("SPI_COUNT", SPI_COUNT),
    ("LEASE", LEASE),
    ("RAW_U8", RAW_U8),
    ("REQID", REQID),
    ("INTERVAL", INTERVAL),
    ("VALIDITY", VALIDITY),
];

/// `1 to 255`.
impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.min, self.max)
    }
}

impl Limit {
    /// The number `s` writes, or why it is none: `is not a number (1 to
    /// 255)` (with `, decimal or 0x hex` where hex is allowed), `is out of
    /// range (1 to 255)`.
    pub fn read(&self, s: &str) -> Result<u32, String> {
        let (digits, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(h) if self.hex => (h, 16),
            _ => (s, 10),
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            let hex = if self.hex { ", decimal or 0x hex" } else { "" };
            return Err(format!("is not {} ({self}{hex})", self.noun));
        }
        // Saturating: any number too long for a u64 is out of range too.
        let v = digits.chars().fold(0u64, |v, c| {
            v.saturating_mul(u64::from(radix))
                .saturating_add(u64::from(c.to_digit(radix).unwrap_or(0)))
        });
        match u32::try_from(v) {
            Ok(v) if (self.min..=self.max).contains(&v) => Ok(v),
            _ => Err(format!("is out of range ({self})")),
        }
    }

    /// [`Limit::read`] of the value of `key`, with a message that names
    /// both: `pap-rate: "1001" is out of range (0 to 1000)`.
    pub fn parse(&self, key: &str, value: &str) -> Result<u32, String> {
        self.read(value)
            .map_err(|why| format!("{key}: \"{value}\" {why}"))
    }

    /// A clap value parser of this limit, into `T` (which the limit fits).
    pub fn arg<T: TryFrom<u32>>(
        self,
    ) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
        move |s| {
            self.read(s)
                .and_then(|v| T::try_from(v).map_err(|_| format!("is out of range ({self})")))
        }
    }

    /// `text (1 to 255)`, for a help line.
    pub fn help(&self, text: &str) -> String {
        let hex = if self.hex { ", decimal or 0x hex" } else { "" };
        format!("{text} ({self}{hex})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_at_its_ends() {
        for (name, l) in ALL {
            let (min, max) = (u64::from(l.min), u64::from(l.max));
            for (v, ok) in [
                (min.wrapping_sub(1), false),
                (min, true),
                (max, true),
                (max + 1, false),
            ] {
                if v == u64::MAX {
                    continue; // below 0: "-1" is not a number at all
                }
                let r = l.read(&v.to_string());
                if ok {
                    assert_eq!(r, Ok(v as u32), "{name} {v}");
                } else {
                    assert_eq!(r, Err(format!("is out of range ({l})")), "{name} {v}");
                }
            }
            let e = l.read("-1").unwrap_err();
            assert!(
                e.starts_with(&format!("is not {} (", l.noun)),
                "{name}: {e}"
            );
        }
    }

    #[test]
    fn the_limits_are_dnat_cores() {
        assert_eq!(PORT.to_string(), "1 to 65535");
        assert_eq!(SPI.to_string(), "256 to 4294967295");
        assert_eq!(PAP_RATE.to_string(), "0 to 1000");
        assert_eq!(TIMEOUT.to_string(), "1 to 86400");
        assert_eq!(PORT_COUNT.to_string(), "1 to 255");
        assert_eq!(SPI_COUNT.to_string(), "1 to 65535");
        assert_eq!(QUOTA.to_string(), "1 to 4294967295");
        assert_eq!(VALIDITY.min, 60);
    }

    #[test]
    fn what_a_number_is() {
        for (l, s, v) in [
            (SPI, "0x1000", 0x1000),
            (SPI, "0X1fff", 0x1fff),
            (SPI, "4096", 4096),
            (SPI, "0xffffffff", u32::MAX),
            (PORT, "00080", 80),
            (LEASE, "0", 0),
        ] {
            assert_eq!(l.read(s), Ok(v), "{s}");
        }
        for (l, s, e) in [
            (PORT, "0x10", "is not a port number (1 to 65535)"),
            (PORT, "+5", "is not a port number (1 to 65535)"),
            (PORT, "", "is not a port number (1 to 65535)"),
            (PORT, "1.5", "is not a port number (1 to 65535)"),
            (
                SPI,
                "0x",
                "is not an SPI (256 to 4294967295, decimal or 0x hex)",
            ),
            (
                SPI,
                "0x1fffg",
                "is not an SPI (256 to 4294967295, decimal or 0x hex)",
            ),
            (SPI, "0x100000000", "is out of range (256 to 4294967295)"),
            (SPI, "0xff", "is out of range (256 to 4294967295)"),
            (
                QUOTA,
                "99999999999999999999999999",
                "is out of range (1 to 4294967295)",
            ),
            (TIMEOUT, "2h", "is not a number of seconds (1 to 86400)"),
        ] {
            assert_eq!(l.read(s), Err(e.to_owned()), "{s}");
        }
        assert_eq!(
            PAP_RATE.parse("pap-rate", "1001"),
            Err("pap-rate: \"1001\" is out of range (0 to 1000)".into())
        );
        assert_eq!(PORT_COUNT.arg::<u8>()("255"), Ok(255u8));
        assert_eq!(
            PORT_COUNT.arg::<u8>()("256"),
            Err("is out of range (1 to 255)".into())
        );
        assert_eq!(
            SPI.help("The SPI"),
            "The SPI (256 to 4294967295, decimal or 0x hex)"
        );
    }
}
