// SPDX-License-Identifier: GPL-2.0

//! Named counters, declared once: [`counter_enum!`] gives an enum of
//! counters, their number, every variant in index order and each one's
//! name (as `dnatctl ... stats` shows it), and, with `in Store`, the
//! array of atomic counters that holds one per variant.
//!
//! The core declares its counters with it (`super::stat::counter_enum`),
//! and here those of the modules' packet paths, so that the names the
//! modules send are also the ones `dnatctl` knows (its Prometheus
//! metrics): both kernel modules include this file.

/// Declares a counter enum and, optionally, its storage:
///
/// ```text
/// counter_enum! {
///     /// Doc of the enum.
///     pub enum Stat in Stats {
///         /// Doc of the counter.
///         Granted = "granted",
///         ...
///     }
/// }
/// ```
///
/// `Stat` is `Copy`, `Eq` and `repr(usize)`, with `COUNT`, `ALL`,
/// `NAMES`, `index()` and `name()` (all as visible as the enum). `Stats` (only with `in Stats`) holds
/// one relaxed atomic `u64` per variant: `new()`, `bump()`, `add()`,
/// `get()` and `entry(i)` (the name and value of counter `i`, for dumps).
/// Relaxed is enough: each counter is an independent word that readers
/// sample.
macro_rules! counter_enum {
    (
        $(#[$m:meta])*
        $vis:vis enum $name:ident $(in $store:ident)? {
            $( $(#[$vm:meta])* $v:ident = $text:literal ),* $(,)?
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(usize)]
        $vis enum $name {
            $( $(#[$vm])* $v, )*
        }

        #[allow(dead_code)]
        impl $name {
            /// Number of counters.
            $vis const COUNT: usize = [$($text),*].len();
            /// Every counter, in index order.
            $vis const ALL: [$name; Self::COUNT] = [$($name::$v),*];
            /// Every counter's name, in index order.
            $vis const NAMES: [&'static str; Self::COUNT] = [$($text),*];

            /// The counter's slot.
            $vis const fn index(self) -> usize {
                self as usize
            }

            /// The counter's name.
            $vis const fn name(self) -> &'static str {
                match self {
                    $( $name::$v => $text, )*
                }
            }
        }

        $(
            /// One atomic counter per variant of
            #[doc = concat!("[`", stringify!($name), "`].")]
            $vis struct $store([::core::sync::atomic::AtomicU64; $name::COUNT]);

            #[allow(dead_code)]
            impl $store {
                /// All zero.
                $vis const fn new() -> Self {
                    Self([const { ::core::sync::atomic::AtomicU64::new(0) }; $name::COUNT])
                }

                /// Counts one.
                #[inline]
                $vis fn bump(&self, s: $name) {
                    self.add(s, 1);
                }

                /// Adds `n` (wrapping).
                #[inline]
                $vis fn add(&self, s: $name, n: u64) {
                    if let Some(c) = self.0.get(s.index()) {
                        c.fetch_add(n, ::core::sync::atomic::Ordering::Relaxed);
                    }
                }

                /// Counter `s`.
                $vis fn get(&self, s: $name) -> u64 {
                    self.0
                        .get(s.index())
                        .map_or(0, |c| c.load(::core::sync::atomic::Ordering::Relaxed))
                }

                /// Counter `i` (index order): its name and value.
                $vis fn entry(&self, i: usize) -> Option<(&'static str, u64)> {
                    let s = *$name::ALL.get(i)?;
                    Some((s.name(), self.get(s)))
                }
            }

            impl Default for $store {
                fn default() -> Self {
                    Self::new()
                }
            }
        )?
    };
}

pub(crate) use counter_enum;

counter_enum! {
    /// The router's data-path counters (`rust/router/datapath.rs`).
    pub enum DataStat in DataStats {
        /// Inbound packets tunnelled to their owner.
        InDelivered = "in_delivered",
        /// Inbound packets nobody owns (left to the router's stack, or dropped
        /// when the router is configured so).
        InUnowned = "in_unowned",
        /// Inbound packets that could not be tunnelled (no route, no memory).
        InEncapFailed = "in_encap_failed",
        /// Outbound packets decapsulated and forwarded.
        OutForwarded = "out_forwarded",
        /// Outbound packets whose host does not own the source port or holds
        /// nothing (spoofing).
        OutSpoofed = "out_spoofed",
        /// Outbound packets whose inner source is not the public address.
        OutNotPublicSource = "out_not_public_source",
        /// Outbound inner protocols not forwarded for hosts.
        OutProtocol = "out_protocol",
        /// Outbound packets with a malformed or truncated inner packet.
        OutBadInner = "out_bad_inner",
        /// Outbound packets that could not be decapsulated.
        OutDecapFailed = "out_decap_failed",
        /// Packets with the public address as source that were not
        /// tunnelled to the router and not from a direct-mode host (they
        /// would skip the ownership check).
        OutUntunnelled = "out_untunnelled",
        /// Inbound ESP/AH whose (source, SPI) the owner has not validated
        /// (strict SA policy).
        InSaNotValidated = "in_sa_not_validated",
        /// Inbound ESP/AH matching a blacklist entry of the owner.
        InSaBlacklisted = "in_sa_blacklisted",
        /// Inbound ESP in UDP (NAT traversal) whose SPI the owner of the UDP
        /// destination port does not hold.
        InSaNotSpiOwner = "in_sa_not_spi_owner",
        /// Outbound packets whose inner destination is the router itself (an
        /// address of its own, a broadcast or multicast address).
        OutLocalDestination = "out_local_destination",
        /// Inbound ICMP query replies tunnelled to the owner of their
        /// identifier.
        InIcmpReply = "in_icmp_reply",
        /// Inbound ICMP errors tunnelled to the owner of the port or query
        /// identifier they quote.
        InIcmpErrorPort = "in_icmp_error_port",
        /// Inbound ICMP errors tunnelled to the host that sends the ESP or AH
        /// SA they quote (table of outbound SAs).
        InIcmpErrorSa = "in_icmp_error_sa",
        /// Inbound ICMP query replies and errors that no host owns (also
        /// counted in `in_unowned`).
        InIcmpUnowned = "in_icmp_unowned",
        /// ICMP errors of the router's own stack about a host's packets
        /// (time exceeded, fragmentation needed), tunnelled to that host.
        LocalIcmpError = "local_icmp_error",
        /// Outbound ICMP of a type hosts do not send (query replies, source
        /// quench, redirect, types that are neither queries nor errors).
        OutIcmpType = "out_icmp_type",
        /// Outbound ICMP errors that are not about a packet the host received
        /// at the public address (see `classify::OutRefusal::IcmpQuote`).
        OutIcmpQuote = "out_icmp_quote",
        /// Outbound ESP/AH whose SA the table of outbound SAs could not learn:
        /// both sets full.
        OutSaFull = "out_sa_full",
        /// ... the host has as many outbound SAs as it may.
        OutSaHostLimit = "out_sa_host_limit",
        /// ... a live entry of that SA belongs to another host.
        OutSaConflict = "out_sa_conflict",
        /// Inbound packets sent unchanged to a direct-mode host (also in
        /// `in_delivered`).
        InDirect = "in_direct",
        /// Untunnelled packets of a direct-mode host, from its bound
        /// address on the LAN device, forwarded (also in `out_forwarded`).
        OutDirect = "out_direct",
        /// Untunnelled packets with the public source using what a
        /// direct-mode host owns, from another link-layer address.
        OutDirectLladdr = "out_direct_lladdr",
        /// Packets with the public source from a direct-mode host's bound
        /// address on a device other than the LAN device.
        OutDirectDev = "out_direct_dev",
    }
}

counter_enum! {
    /// The host's data-path counters (`rust/host/datapath.rs`).
    pub enum HostStat in HostStats {
        /// Outbound packets tunnelled to the router.
        OutTunnelled = "out_tunnelled",
        /// Their bytes: the IPv4 total length of each, without the outer
        /// header.
        OutTunnelledBytes = "out_tunnelled_bytes",
        /// Outbound packets whose source port was translated.
        OutTranslated = "out_translated",
        /// Outbound translations created (first packet of a flow).
        OutNewFlow = "out_new_flow",
        /// Packets from the public address to the LAN, left untouched.
        OutLan = "out_lan",
        /// Outbound packets dropped: the host is not configured yet.
        OutNotReady = "out_not_ready",
        /// Outbound packets dropped: no granted port free for a new flow.
        OutNoPort = "out_no_port",
        /// Outbound TCP/UDP fragments dropped (their ports cannot be
        /// translated; the stack fragments after this hook, so only raw
        /// sockets make them).
        OutFragment = "out_fragment",
        /// Outbound packets of a protocol not carried for hosts (not TCP, UDP,
        /// ESP or AH).
        OutProtocol = "out_protocol",
        /// Outbound packets that could not be translated or tunnelled.
        OutFailed = "out_failed",
        /// Inbound tunnelled packets delivered to the stack.
        InDelivered = "in_delivered",
        /// Their bytes: the IPv4 total length of each once decapsulated.
        InDeliveredBytes = "in_delivered_bytes",
        /// Inbound packets whose destination port was translated back.
        InTranslated = "in_translated",
        /// Inbound tunnelled packets from an address other than the router.
        InBadSource = "in_bad_source",
        /// Inbound tunnelled packets with a truncated or malformed inner
        /// packet, or an inner packet not to the public address.
        InMalformed = "in_malformed",
        /// Inbound tunnelled packets that could not be decapsulated.
        InFailed = "in_failed",
        /// Native mode: a granted block the kernel refused as the ephemeral
        /// range (below `ip_unprivileged_port_start`).
        PortRangeRefused = "port_range_refused",
        /// Outbound ICMP query requests that created an identifier
        /// translation.
        OutIcmpNew = "out_icmp_new",
        /// Outbound ICMP whose query identifier, or whose quoted port or
        /// identifier, was translated.
        OutIcmpTranslated = "out_icmp_translated",
        /// Outbound ICMP errors dropped: not about a packet the host received
        /// at the public address (the router would refuse them).
        OutIcmpQuote = "out_icmp_quote",
        /// Inbound ICMP whose query identifier, or whose quoted port or
        /// identifier, was translated back.
        InIcmpTranslated = "in_icmp_translated",
        /// Inbound ICMP query replies without an identifier translation
        /// (nothing asked for them), dropped.
        InIcmpUnsolicited = "in_icmp_unsolicited",
        /// Inbound ICMP errors left unchanged, by reason
        /// (`icmp::QuoteSkip`, in its order): not an error.
        InQuoteNotError = "in_quote_not_error",
        /// ... truncated.
        InQuoteTruncated = "in_quote_truncated",
        /// ... the quoted header is malformed or fails its checksum.
        InQuoteBadQuote = "in_quote_bad_quote",
        /// ... not about a packet the host sent.
        InQuoteNotOurs = "in_quote_not_ours",
        /// ... about a later fragment.
        InQuoteFragment = "in_quote_fragment",
        /// ... about an ICMP error.
        InQuoteAboutError = "in_quote_about_error",
        /// ... about a protocol without ports (ESP, AH).
        InQuoteNoPort = "in_quote_no_port",
        /// ... no translation for the quoted port or identifier.
        InQuoteNoMapping = "in_quote_no_mapping",
        /// Direct delivery: outbound packets sent to the router untunnelled.
        OutDirect = "out_direct",
        /// Inbound packets to the public address sent unchanged by the
        /// router (from its link-layer address), delivered to the stack.
        InDirect = "in_direct",
        /// Inbound untunnelled packets to the public address from another
        /// link-layer address than the router's, dropped (direct mode).
        InDirectLladdr = "in_direct_lladdr",
    }
}

counter_enum! {
    /// The host's PAP receive-side and authentication counters that the
    /// client (`pap_client::Stat`) does not keep (`rust/host/client.rs`;
    /// then one per `pap_session::SessionDrop`).
    pub enum RxStat in RxStats {
        /// PAP messages received.
        Received = "rx",
        /// ... that were not valid PAP.
        Malformed = "rx_malformed",
        /// ... not from the router, not to us, or fragmented.
        Foreign = "rx_foreign",
        /// Messages that could not be sent.
        SendFailed = "send_failed",
        /// Keys the router granted and the host installed.
        KeyInstalled = "auth_keys_installed",
        /// Keys the router no longer accepted (a new one is asked for).
        Rekey = "auth_rekeys",
        /// Unauthenticated invalidations taken as hints.
        Hint = "auth_hints",
    }
}

#[cfg(test)]
mod tests {
    counter_enum! {
        /// Two counters.
        pub enum Two in Twos {
            /// The first.
            First = "first",
            /// The second.
            Second = "second_one",
        }
    }

    counter_enum! {
        enum Bare {
            Only = "only",
        }
    }

    #[test]
    fn names_indexes_and_storage() {
        assert_eq!(Two::COUNT, 2);
        assert_eq!(Two::ALL, [Two::First, Two::Second]);
        assert_eq!(Two::NAMES, ["first", "second_one"]);
        assert_eq!(Two::Second.index(), 1);
        assert_eq!(Two::Second.name(), "second_one");
        for (i, s) in Two::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
            assert_eq!(s.name(), Two::NAMES[i]);
        }
        let c = Twos::new();
        c.bump(Two::Second);
        c.add(Two::Second, 4);
        assert_eq!(c.get(Two::First), 0);
        assert_eq!(c.get(Two::Second), 5);
        assert_eq!(c.entry(1), Some(("second_one", 5)));
        assert_eq!(c.entry(2), None);
        assert_eq!(Bare::ALL, [Bare::Only]);
        assert_eq!(Bare::Only.name(), "only");
    }
}
