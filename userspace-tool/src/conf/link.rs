// SPDX-License-Identifier: GPL-2.0

//! Whether an interface exists in the caller's network namespace
//! (`RTM_GETLINK` by name), so that `setconf` names the line of an
//! interface the kernel would refuse before anything changes.

use netlink_packet_core::{NetlinkMessage, NLM_F_ACK, NLM_F_REQUEST};
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use crate::nl::{self, Error, Reply, ReplyError};

/// `ENODEV`: no interface of that name.
const ENODEV: i32 = 19;

/// Whether the interface `name` exists here.
pub fn exists(name: &str) -> Result<bool, Error> {
    let what = format!("looking up interface {name}");
    let io = |err| Error::Io {
        what: what.clone(),
        err,
    };
    let mut sock = Socket::new(NETLINK_ROUTE).map_err(io)?;
    sock.bind_auto().map_err(io)?;
    sock.connect(&SocketAddr::new(0, 0)).map_err(io)?;
    let mut req = LinkMessage::default();
    req.attributes.push(LinkAttribute::IfName(name.to_owned()));
    let mut msg = NetlinkMessage::from(RouteNetlinkMessage::GetLink(req));
    msg.header.flags = NLM_F_REQUEST | NLM_F_ACK;
    msg.header.sequence_number = 1;
    msg.finalize();
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    sock.send(&buf, 0).map_err(io)?;
    let mut found = false;
    loop {
        let (buf, _) = sock.recv_from_full().map_err(io)?;
        let malformed = |detail| Error::Malformed {
            what: what.clone(),
            detail,
        };
        for bytes in nl::split(&buf).map_err(malformed)? {
            match nl::classify::<RouteNetlinkMessage>(bytes, 1) {
                Ok(Reply::Data(RouteNetlinkMessage::NewLink(_))) => found = true,
                Ok(Reply::Ack | Reply::Done) => return Ok(found),
                Ok(_) => {}
                Err(ReplyError::Nack(n)) if n.errno == ENODEV => return Ok(false),
                Err(ReplyError::Nack(n)) => {
                    return Err(Error::Kernel {
                        what,
                        errno: n.errno,
                        extack: n.extack,
                    })
                }
                Err(ReplyError::Malformed(d)) => return Err(malformed(d)),
            }
        }
    }
}
