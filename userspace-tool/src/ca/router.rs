// SPDX-License-Identifier: GPL-2.0

//! What the CA needs of the router module, behind [`Router`]: the shared
//! public address, the LAN prefixes, the revoked hosts, the blocks hosts
//! hold, and pinning a block. [`NetlinkRouter`] asks the `dnat_router`
//! family of the caller's network namespace (and rtnetlink for the LAN
//! interface's addresses); the tests use a fake.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use dnat_core::uapi::router_cmd;
use netlink_packet_core::{NetlinkMessage, NLM_F_DUMP, NLM_F_REQUEST};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use super::ext::{Block, Kind};
use crate::msg::{Attr, Msg, RouterAttr};
use crate::nl::{self, genl, Conn, Reply, ReplyError};

/// An IPv4 prefix, `ADDR/LEN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    pub addr: Ipv4Addr,
    pub len: u8,
}

impl Prefix {
    fn mask(&self) -> u32 {
        match self.len {
            0 => 0,
            n => u32::MAX << (32 - u32::from(n.min(32))),
        }
    }

    /// Whether `a` lies in the prefix.
    pub fn contains(&self, a: Ipv4Addr) -> bool {
        let m = self.mask();
        u32::from(a) & m == u32::from(self.addr) & m
    }

    /// `ADDR/LEN` (`ADDR` alone is a /32).
    pub fn parse(s: &str) -> Result<Self, String> {
        let (a, l) = s.split_once('/').unwrap_or((s, "32"));
        let addr = a
            .parse()
            .map_err(|_| format!("invalid IPv4 address \"{a}\""))?;
        let len = l
            .parse()
            .ok()
            .filter(|l| *l <= 32)
            .ok_or_else(|| format!("invalid prefix length \"{l}\""))?;
        Ok(Self { addr, len })
    }
}

/// `10.0.0.0/24` (the network address).
impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let net = Ipv4Addr::from(u32::from(self.addr) & self.mask());
        write!(f, "{net}/{}", self.len)
    }
}

/// One block a host holds, as the router reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub host: Ipv4Addr,
    pub block: Block,
    /// Seconds left on the lease; `None`: no expiry.
    pub expires: Option<u32>,
    /// Seconds left on a pin; `None`: not pinned (or not reported).
    pub pinned: Option<u32>,
}

/// Why the router could not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouterError {
    /// `PIN_BLOCK`: the host holds no block containing the range (ENOENT).
    NotHeld(String),
    /// The `dnat_router` family is not registered here.
    NoFamily(String),
    /// Anything else.
    Other(String),
}

impl fmt::Display for RouterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouterError::NotHeld(m) | RouterError::NoFamily(m) | RouterError::Other(m) => {
                f.write_str(m)
            }
        }
    }
}

impl From<nl::Error> for RouterError {
    fn from(e: nl::Error) -> Self {
        match e {
            // ENOENT: no block of the host contains the range; EACCES: the
            // host is revoked; EPERM "another host holds that block" (and
            // not the EPERM of a caller without CAP_NET_ADMIN).
            nl::Error::Kernel { errno: 2 | 13, .. } => RouterError::NotHeld(e.to_string()),
            nl::Error::Kernel {
                errno: 1,
                extack: Some(ref m),
                ..
            } if m.contains("another host") => RouterError::NotHeld(e.to_string()),
            nl::Error::NoFamily { .. } => RouterError::NoFamily(e.to_string()),
            e => RouterError::Other(e.to_string()),
        }
    }
}

/// The router module, as the CA sees it.
pub trait Router: Send + Sync {
    /// The shared public address (`GET_CONFIG` `PUBLIC_ADDR`).
    fn public_addr(&self) -> Result<Ipv4Addr, RouterError>;
    /// The prefixes of the LAN: requests from elsewhere are refused.
    fn lan_prefixes(&self) -> Result<Vec<Prefix>, RouterError>;
    /// Hosts the administrator revoked (`GET_HOSTS` `HOST_REVOKED`).
    fn revoked_hosts(&self) -> Result<Vec<Ipv4Addr>, RouterError>;
    /// Every block of every host (`GET_BLOCKS`).
    fn blocks(&self) -> Result<Vec<Held>, RouterError>;
    /// `PIN_BLOCK`: bind `block` (inside a block `host` holds) for `secs`
    /// seconds from now; 0 removes the pin.
    fn pin(&self, host: Ipv4Addr, block: &Block, secs: u32) -> Result<(), RouterError>;
}

/// The `dnat_router` module of this network namespace.
#[derive(Debug, Default, Clone)]
pub struct NetlinkRouter {
    /// The LAN prefixes given on the command line, instead of the LAN
    /// interface's addresses.
    pub lan: Option<Vec<Prefix>>,
}

fn router_dump(cmd: u8, what: &str) -> Result<Vec<Vec<RouterAttr>>, RouterError> {
    let mut conn = Conn::open()?;
    let id = conn.resolve(RouterAttr::FAMILY)?;
    let msgs = conn.dump(genl(Msg::<RouterAttr>::new(cmd), id), what)?;
    Ok(msgs.into_iter().map(|m| m.attrs).collect())
}

fn router_config() -> Result<Vec<RouterAttr>, RouterError> {
    let mut conn = Conn::open()?;
    let id = conn.resolve(RouterAttr::FAMILY)?;
    let what = "reading the dnat_router configuration";
    let msgs = conn.doit(
        genl(Msg::<RouterAttr>::new(router_cmd::GET_CONFIG), id),
        what,
    )?;
    Ok(msgs.into_iter().flat_map(|m| m.attrs).collect())
}

/// The `PIN_BLOCK` request for `block` of `host`.
pub fn pin_msg(host: Ipv4Addr, block: &Block, secs: u32) -> Msg<RouterAttr> {
    let count = u32::try_from(block.count()).unwrap_or(u32::MAX);
    Msg {
        cmd: router_cmd::PIN_BLOCK,
        attrs: vec![
            RouterAttr::HostAddr(host),
            RouterAttr::BlockKind(block.kind.number()),
            RouterAttr::BlockLowest(block.first),
            RouterAttr::BlockCount(count),
            RouterAttr::PinSecs(secs),
        ],
    }
}

/// Decodes a `GET_BLOCKS` dump with `router blocks`' decoder
/// ([`crate::dump::Blocks::from_dump`]); messages without a block (a
/// revoked host holding nothing) and blocks of unknown kinds are skipped.
pub fn decode_blocks(dump: &[Vec<RouterAttr>]) -> Result<Vec<Held>, String> {
    let blocks = crate::dump::Blocks::from_dump(dump.iter().map(Vec::as_slice))?;
    let mut out = Vec::new();
    for b in blocks.blocks {
        let Some(kind) = Kind::from_number(i64::from(b.kind_num)) else {
            continue;
        };
        let block = Block::from_count(kind, b.lowest, b.count).ok_or_else(|| {
            format!(
                "block {} count {} of {}: no such block",
                b.lowest, b.count, b.host
            )
        })?;
        out.push(Held {
            host: b.host,
            block,
            expires: b.expires,
            pinned: b.pinned,
        });
    }
    Ok(out)
}

/// The hosts flagged `HOST_REVOKED` in a `GET_HOSTS` dump.
pub fn decode_revoked(dump: &[Vec<RouterAttr>]) -> Vec<Ipv4Addr> {
    dump.iter()
        .filter(|attrs| attrs.contains(&RouterAttr::HostRevoked))
        .filter_map(|attrs| {
            attrs.iter().find_map(|a| match a {
                RouterAttr::HostAddr(h) => Some(*h),
                _ => None,
            })
        })
        .collect()
}

/// The IPv4 prefixes of the interface with index `index` (or, without an
/// index, the label `name`), from an `RTM_GETADDR` dump.
fn interface_prefixes(index: Option<u32>, name: &str) -> Result<Vec<Prefix>, RouterError> {
    let what = format!("reading the addresses of {name}");
    let io = |err| RouterError::Other(format!("{what}: {err}"));
    let mut sock = Socket::new(NETLINK_ROUTE).map_err(io)?;
    sock.bind_auto().map_err(io)?;
    sock.connect(&SocketAddr::new(0, 0)).map_err(io)?;
    let mut req = AddressMessage::default();
    req.header.family = AddressFamily::Inet;
    let mut nlmsg = NetlinkMessage::from(RouteNetlinkMessage::GetAddress(req));
    nlmsg.header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlmsg.header.sequence_number = 1;
    nlmsg.finalize();
    let mut buf = vec![0; nlmsg.buffer_len()];
    nlmsg.serialize(&mut buf);
    sock.send(&buf, 0).map_err(io)?;
    let mut out = Vec::new();
    loop {
        let (buf, _) = sock.recv_from_full().map_err(io)?;
        for bytes in nl::split(&buf).map_err(|e| RouterError::Other(format!("{what}: {e}")))? {
            match nl::classify::<RouteNetlinkMessage>(bytes, 1) {
                Ok(Reply::Data(RouteNetlinkMessage::NewAddress(m))) => {
                    let label = m.attributes.iter().find_map(|a| match a {
                        AddressAttribute::Label(l) => Some(l.as_str()),
                        _ => None,
                    });
                    let ours = match index {
                        Some(i) => m.header.index == i,
                        None => label.is_some_and(|l| {
                            l == name || l.strip_prefix(name).is_some_and(|r| r.starts_with(':'))
                        }),
                    };
                    let local = m.attributes.iter().find_map(|a| match a {
                        AddressAttribute::Local(IpAddr::V4(v)) => Some(*v),
                        _ => None,
                    });
                    let address = m.attributes.iter().find_map(|a| match a {
                        AddressAttribute::Address(IpAddr::V4(v)) => Some(*v),
                        _ => None,
                    });
                    if let (true, Some(addr)) = (ours, local.or(address)) {
                        out.push(Prefix {
                            addr,
                            len: m.header.prefix_len,
                        });
                    }
                }
                Ok(Reply::Done) => return Ok(out),
                Ok(_) => {}
                Err(ReplyError::Nack(n)) => {
                    return Err(RouterError::Other(format!(
                        "{what}: {} (errno {})",
                        nl::strerror(n.errno),
                        n.errno
                    )))
                }
                Err(ReplyError::Malformed(d)) => {
                    return Err(RouterError::Other(format!("{what}: malformed reply: {d}")))
                }
            }
        }
    }
}

impl Router for NetlinkRouter {
    fn public_addr(&self) -> Result<Ipv4Addr, RouterError> {
        router_config()?
            .iter()
            .find_map(|a| match a {
                RouterAttr::PublicAddr(p) => Some(*p),
                _ => None,
            })
            .ok_or_else(|| {
                RouterError::Other("the dnat_router module has no public address".into())
            })
    }

    fn lan_prefixes(&self) -> Result<Vec<Prefix>, RouterError> {
        if let Some(p) = &self.lan {
            return Ok(p.clone());
        }
        let config = router_config()?;
        let name = config.iter().find_map(|a| match a {
            RouterAttr::LanIfname(n) => Some(n.clone()),
            _ => None,
        });
        let index = config.iter().find_map(|a| match a {
            RouterAttr::LanIfindex(i) => Some(*i),
            _ => None,
        });
        let Some(name) = name else {
            return Err(RouterError::Other(
                "the dnat_router module has no LAN interface (give --lan PREFIX)".into(),
            ));
        };
        let p = interface_prefixes(index, &name)?;
        if p.is_empty() {
            return Err(RouterError::Other(format!(
                "the LAN interface {name} has no IPv4 address (give --lan PREFIX)"
            )));
        }
        Ok(p)
    }

    fn revoked_hosts(&self) -> Result<Vec<Ipv4Addr>, RouterError> {
        let d = router_dump(router_cmd::GET_HOSTS, "reading the dnat_router hosts")?;
        Ok(decode_revoked(&d))
    }

    fn blocks(&self) -> Result<Vec<Held>, RouterError> {
        let what = "reading the dnat_router blocks";
        let d = router_dump(router_cmd::GET_BLOCKS, what)?;
        decode_blocks(&d).map_err(|e| RouterError::Other(format!("{what}: malformed reply: {e}")))
    }

    fn pin(&self, host: Ipv4Addr, block: &Block, secs: u32) -> Result<(), RouterError> {
        let mut conn = Conn::open()?;
        let id = conn.resolve(RouterAttr::FAMILY)?;
        let what = format!("pinning {block} of host {host} for {secs} s");
        conn.doit(genl(pin_msg(host, block, secs), id), &what)?;
        Ok(())
    }
}

#[cfg(test)]
pub mod fake {
    //! An in-memory router for the tests.

    use super::*;
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    pub struct State {
        pub public: Option<Ipv4Addr>,
        pub lan: Vec<Prefix>,
        pub revoked: Vec<Ipv4Addr>,
        pub blocks: Vec<Held>,
        /// Every `pin` call that succeeded, in order.
        pub pins: Vec<(Ipv4Addr, Block, u32)>,
        /// Fail every call with this.
        pub down: Option<RouterError>,
    }

    #[derive(Debug, Default)]
    pub struct FakeRouter(pub Mutex<State>);

    impl FakeRouter {
        /// Public 203.0.113.30, LAN `lan`.
        pub fn new(lan: &str) -> Self {
            let s = State {
                public: Some(Ipv4Addr::new(203, 0, 113, 30)),
                lan: vec![Prefix::parse(lan).unwrap()],
                ..State::default()
            };
            Self(Mutex::new(s))
        }

        pub fn hold(&self, host: Ipv4Addr, block: Block, expires: Option<u32>) {
            self.0.lock().unwrap().blocks.push(Held {
                host,
                block,
                expires,
                pinned: None,
            });
        }

        pub fn revoke(&self, host: Ipv4Addr) {
            let mut s = self.0.lock().unwrap();
            s.revoked.push(host);
            s.blocks.retain(|h| h.host != host);
        }

        pub fn pins(&self) -> Vec<(Ipv4Addr, Block, u32)> {
            self.0.lock().unwrap().pins.clone()
        }

        /// The pin in force on the held block of `host` containing
        /// `block`: as in the kernel, a pin belongs to the whole held
        /// block, and the last `PIN_BLOCK` sets it.
        pub fn pin_of(&self, host: Ipv4Addr, block: &Block) -> Option<u32> {
            let s = self.0.lock().unwrap();
            s.blocks
                .iter()
                .find(|h| h.host == host && h.block.contains(block))
                .and_then(|h| h.pinned)
        }

        fn up(&self) -> Result<std::sync::MutexGuard<'_, State>, RouterError> {
            let s = self.0.lock().unwrap();
            match &s.down {
                Some(e) => Err(e.clone()),
                None => Ok(s),
            }
        }
    }

    impl Router for FakeRouter {
        fn public_addr(&self) -> Result<Ipv4Addr, RouterError> {
            self.up()?
                .public
                .ok_or(RouterError::Other("no public address".into()))
        }

        fn lan_prefixes(&self) -> Result<Vec<Prefix>, RouterError> {
            Ok(self.up()?.lan.clone())
        }

        fn revoked_hosts(&self) -> Result<Vec<Ipv4Addr>, RouterError> {
            Ok(self.up()?.revoked.clone())
        }

        fn blocks(&self) -> Result<Vec<Held>, RouterError> {
            Ok(self.up()?.blocks.clone())
        }

        fn pin(&self, host: Ipv4Addr, block: &Block, secs: u32) -> Result<(), RouterError> {
            let mut s = self.up()?;
            let mut held = false;
            for h in s.blocks.iter_mut() {
                if h.host == host && h.block.contains(block) {
                    h.pinned = (secs != 0).then_some(secs);
                    held = true;
                }
            }
            if !held {
                return Err(RouterError::NotHeld(format!(
                    "pinning {block} of host {host}: No such file or directory (errno 2)"
                )));
            }
            s.pins.push((host, *block, secs));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnat_core::uapi::router_attr;

    #[test]
    fn prefixes() {
        let p = Prefix::parse("10.0.0.7/24").unwrap();
        assert!(p.contains(Ipv4Addr::new(10, 0, 0, 1)));
        assert!(p.contains(Ipv4Addr::new(10, 0, 0, 255)));
        assert!(!p.contains(Ipv4Addr::new(10, 0, 1, 1)));
        assert_eq!(p.to_string(), "10.0.0.0/24");
        let all = Prefix::parse("0.0.0.0/0").unwrap();
        assert!(all.contains(Ipv4Addr::new(203, 0, 113, 3)));
        let host = Prefix::parse("127.0.0.1").unwrap();
        assert_eq!(host.len, 32);
        assert!(!host.contains(Ipv4Addr::new(127, 0, 0, 2)));
        assert!(Prefix::parse("10.0.0.0/33").is_err());
        assert!(Prefix::parse("10.0.0/8").is_err());
    }

    #[test]
    fn pin_request_bytes() {
        let block = Block {
            kind: Kind::Spis,
            first: 0x1000,
            last: 0x10ff,
        };
        let msg = pin_msg(Ipv4Addr::new(10, 0, 0, 1), &block, 3600);
        let got = nl::encode(
            genl(msg, 0x21),
            netlink_packet_core::NLM_F_REQUEST | netlink_packet_core::NLM_F_ACK,
            9,
        );
        let mut want_attrs = vec![8, 0, 13, 0, 10, 0, 0, 1]; // HOST_ADDR
        want_attrs.extend_from_slice(&[5, 0, 15, 0, 2, 0, 0, 0]); // BLOCK_KIND
        want_attrs.extend_from_slice(&[8, 0, 16, 0]);
        want_attrs.extend_from_slice(&0x1000u32.to_ne_bytes());
        want_attrs.extend_from_slice(&[8, 0, 17, 0]);
        want_attrs.extend_from_slice(&256u32.to_ne_bytes());
        want_attrs.extend_from_slice(&[8, 0, 33, 0]);
        want_attrs.extend_from_slice(&3600u32.to_ne_bytes());
        assert_eq!(&got[16..20], &[router_cmd::PIN_BLOCK, 1, 0, 0]);
        assert_eq!(&got[20..], &want_attrs[..]);
        assert_eq!((router_cmd::PIN_BLOCK, router_attr::PIN_SECS), (16, 33));
    }

    #[test]
    fn decodes_dumps() {
        let h1 = Ipv4Addr::new(10, 0, 0, 1);
        let h3 = Ipv4Addr::new(10, 0, 0, 3);
        let dump = vec![
            vec![
                RouterAttr::HostAddr(h1),
                RouterAttr::BlockKind(1),
                RouterAttr::BlockLowest(40000),
                RouterAttr::BlockCount(64),
                RouterAttr::BlockExpires(300),
                RouterAttr::PinSecs(120),
            ],
            vec![
                RouterAttr::HostAddr(h1),
                RouterAttr::BlockKind(2),
                RouterAttr::BlockLowest(0x1000),
                RouterAttr::BlockCount(256),
            ],
            // A revoked host without blocks, a kind from the future.
            vec![RouterAttr::HostAddr(h3), RouterAttr::HostRevoked],
            vec![
                RouterAttr::HostAddr(h3),
                RouterAttr::BlockKind(9),
                RouterAttr::BlockLowest(1),
                RouterAttr::BlockCount(1),
            ],
        ];
        let held = decode_blocks(&dump).unwrap();
        assert_eq!(held.len(), 2);
        assert_eq!(held[0].block.to_string(), "ports 40000-40063");
        assert_eq!((held[0].expires, held[0].pinned), (Some(300), Some(120)));
        assert_eq!(held[1].block.to_string(), "spis 0x1000-0x10ff");
        assert_eq!((held[1].expires, held[1].pinned), (None, None));
        assert_eq!(decode_revoked(&dump), vec![h3]);
        assert!(decode_blocks(&[vec![RouterAttr::BlockKind(1)]]).is_err());
        let bad = vec![vec![
            RouterAttr::HostAddr(h1),
            RouterAttr::BlockKind(1),
            RouterAttr::BlockLowest(1),
            RouterAttr::BlockCount(0),
        ]];
        assert!(decode_blocks(&bad).is_err());
    }
}
