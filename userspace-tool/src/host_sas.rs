// SPDX-License-Identifier: GPL-2.0

//! What `host sas` prints: the host family's `GET_SAS` dump, the SA
//! validations the `dnat_host` module has recorded (`PEER_ADDR`, `SPI`,
//! `SA_STATE`). Decoded, rendered for humans or serialized as JSON;
//! `host follow` reads the same records. Attributes this tool does not know
//! are skipped.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use dnat_core::uapi::sa_state;
use serde::Serialize;

use crate::msg::HostAttr;

pub const HELP: &str = "\
One line per SA validation the dnat_host module has recorded (GET_SAS), by
peer and SPI:
  peer 203.0.113.3 spi 0x00001004 validated
pending: sent to the router, not yet acknowledged; validated: the router
delivers the SA's inbound ESP/AH; STALE (SPI not held): the router restarted
and has not granted the SPI again, so the SA gets no traffic (the module
validates it again once the SPI is held). JSON:
{\"sas\":[{\"peer\":\"203.0.113.3\",\"spi\":4100,\"state\":\"validated\"}]}";

/// One recorded validation (one message of the host's `GET_SAS`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostSa {
    /// The SA peer's external address.
    pub peer: Ipv4Addr,
    /// The SA's inbound SPI.
    pub spi: u32,
    /// `pending`, `validated`, `stale`, or `state N` for a value this tool
    /// does not know.
    pub state: String,
    #[serde(skip)]
    pub state_num: u8,
}

impl HostSa {
    /// Whether the router has forgotten it (`STALE`).
    pub fn is_stale(&self) -> bool {
        self.state_num == sa_state::STALE
    }
}

/// Everything `host sas` prints: `{"sas":[...]}`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct HostSas {
    /// Sorted by peer, SPI.
    pub sas: Vec<HostSa>,
}

/// `pending`, `validated`, `stale`, or `state N`.
pub fn state_name(state: u8) -> String {
    match state {
        sa_state::PENDING => "pending".into(),
        sa_state::VALIDATED => "validated".into(),
        sa_state::STALE => "stale".into(),
        s => format!("state {s}"),
    }
}

impl HostSas {
    /// Decodes a dump, one message's attributes each. Every message needs
    /// `PEER_ADDR`, `SPI` and `SA_STATE`.
    pub fn from_dump<'a>(msgs: impl IntoIterator<Item = &'a [HostAttr]>) -> Result<Self, String> {
        let mut out = Self::default();
        for attrs in msgs {
            let (mut peer, mut spi, mut state) = (None, None, None);
            for a in attrs {
                match a {
                    HostAttr::PeerAddr(p) => peer = Some(*p),
                    HostAttr::Spi(s) => spi = Some(*s),
                    HostAttr::SaState(s) => state = Some(*s),
                    _ => {}
                }
            }
            let (Some(peer), Some(spi), Some(st)) = (peer, spi, state) else {
                let absent: Vec<&str> = [
                    ("PEER_ADDR", peer.is_none()),
                    ("SPI", spi.is_none()),
                    ("SA_STATE", state.is_none()),
                ]
                .iter()
                .filter_map(|&(name, absent)| absent.then_some(name))
                .collect();
                return Err(format!("sa message without {}", absent.join(", ")));
            };
            out.sas.push(HostSa {
                peer,
                spi,
                state: state_name(st),
                state_num: st,
            });
        }
        out.sas.sort_by_key(|s| (s.peer, s.spi));
        Ok(out)
    }
}

/// Human output of `host sas`: one line per record,
/// `peer 203.0.113.3 spi 0x00001000 validated`; a stale one ends in
/// `STALE (SPI not held)`: its SA gets no traffic.
pub fn render_host_sas(s: &HostSas) -> String {
    if s.sas.is_empty() {
        return "(no SAs)\n".into();
    }
    let mut out = String::new();
    for sa in &s.sas {
        let state = if sa.is_stale() {
            "STALE (SPI not held)".into()
        } else {
            sa.state.clone()
        };
        let _ = writeln!(out, "peer {} spi {:#010x} {state}", sa.peer, sa.spi);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::Msg;
    use dnat_core::uapi::{host_attr, host_cmd};
    use netlink_packet_core::{NetlinkMessage, NetlinkPayload, NLM_F_MULTIPART};
    use netlink_packet_generic::GenlMessage;
    use serde_json::json;

    fn tlv(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut v = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        v.resize(v.len().next_multiple_of(4), 0);
        v
    }

    /// One `GET_SAS` dump message as the kernel sends it, parsed like
    /// `Conn::dump`.
    fn parse(attrs: &[Vec<u8>]) -> Result<Vec<HostAttr>, String> {
        let body = attrs.concat();
        let mut v = ((20 + body.len()) as u32).to_ne_bytes().to_vec();
        v.extend_from_slice(&0x1fu16.to_ne_bytes());
        v.extend_from_slice(&NLM_F_MULTIPART.to_ne_bytes());
        v.extend_from_slice(&[5, 0, 0, 0, 0, 0, 0, 0]);
        v.extend_from_slice(&[host_cmd::GET_SAS, 1, 0, 0]);
        v.extend_from_slice(&body);
        let m = NetlinkMessage::<GenlMessage<Msg<HostAttr>>>::deserialize(&v)
            .map_err(|e| e.to_string())?;
        match m.payload {
            NetlinkPayload::InnerMessage(g) => Ok(g.payload.attrs),
            p => panic!("{p:?}"),
        }
    }

    fn sa_msg(peer: [u8; 4], spi: u32, state: u8) -> Vec<HostAttr> {
        parse(&[
            tlv(host_attr::PEER_ADDR, &peer),
            tlv(99, b"future"),
            tlv(host_attr::SPI, &spi.to_ne_bytes()),
            tlv(host_attr::SA_STATE, &[state]),
        ])
        .unwrap()
    }

    #[test]
    fn decodes_records() {
        let d = [
            sa_msg([203, 0, 113, 3], 0x1004, sa_state::VALIDATED),
            sa_msg([198, 51, 100, 7], 0x1010, sa_state::STALE),
            sa_msg([203, 0, 113, 3], 0x1001, sa_state::PENDING),
            sa_msg([192, 0, 2, 1], u32::MAX, 9),
        ];
        assert_eq!(d[0][0], HostAttr::PeerAddr(Ipv4Addr::new(203, 0, 113, 3)));
        assert!(matches!(d[0][1], HostAttr::Other(_)));
        assert_eq!(d[0][2], HostAttr::Spi(0x1004));
        assert_eq!(d[0][3], HostAttr::SaState(1));
        let s = HostSas::from_dump(d.iter().map(|v| &v[..])).unwrap();
        assert_eq!(
            render_host_sas(&s),
            "peer 192.0.2.1 spi 0xffffffff state 9\n\
             peer 198.51.100.7 spi 0x00001010 STALE (SPI not held)\n\
             peer 203.0.113.3 spi 0x00001001 pending\n\
             peer 203.0.113.3 spi 0x00001004 validated\n"
        );
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({"sas": [
                {"peer": "192.0.2.1", "spi": u32::MAX, "state": "state 9"},
                {"peer": "198.51.100.7", "spi": 0x1010, "state": "stale"},
                {"peer": "203.0.113.3", "spi": 0x1001, "state": "pending"},
                {"peer": "203.0.113.3", "spi": 0x1004, "state": "validated"},
            ]})
        );
        assert!(serde_json::to_string(&s)
            .unwrap()
            .starts_with(r#"{"sas":[{"peer":"192.0.2.1","spi":4294967295,"state":"state 9"},"#));
        assert!(s.sas[1].is_stale() && !s.sas[3].is_stale());
    }

    #[test]
    fn empty_and_bad_dumps() {
        let s = HostSas::default();
        assert_eq!(render_host_sas(&s), "(no SAs)\n");
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"sas":[]}"#);
        let mut partial = sa_msg([203, 0, 113, 3], 0x1000, sa_state::VALIDATED);
        partial.retain(|a| !matches!(a, HostAttr::SaState(_)));
        assert_eq!(
            HostSas::from_dump([&partial[..]]).unwrap_err(),
            "sa message without SA_STATE"
        );
        let only_state = [HostAttr::SaState(1)];
        assert_eq!(
            HostSas::from_dump([&only_state[..]]).unwrap_err(),
            "sa message without PEER_ADDR, SPI"
        );
        // Wrong lengths: PEER_ADDR is 4 bytes, SPI a u32, SA_STATE a u8.
        for attrs in [
            vec![tlv(host_attr::PEER_ADDR, &[203, 0, 113])],
            vec![tlv(host_attr::SPI, &1u64.to_ne_bytes())],
            vec![tlv(host_attr::SA_STATE, &[1, 0])],
            vec![tlv(host_attr::SA_STATE, &[])],
        ] {
            assert!(parse(&attrs).is_err(), "{attrs:?}");
        }
        // Round trip of the new attribute.
        use netlink_packet_core::Emitable;
        let msg = Msg {
            cmd: host_cmd::GET_SAS,
            attrs: vec![HostAttr::SaState(sa_state::STALE)],
        };
        let mut buf = vec![0xff; msg.buffer_len()];
        msg.emit(&mut buf);
        assert_eq!(buf, [5, 0, 27, 0, 2, 0, 0, 0]);
        assert_eq!(state_name(sa_state::PENDING), "pending");
    }
}
