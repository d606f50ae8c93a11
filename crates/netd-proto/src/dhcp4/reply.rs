//! What the server sends back: the encoded BOOTREPLY and where it goes.
//!
//! The fixed header and the options are written here directly, in the
//! order we choose (the client's parameter request list order). An option
//! longer than 255 bytes is split into several of the same code (RFC 3396).
//! Replies are padded to the 300-byte BOOTP minimum (RFC 1542 §3.3), which
//! some clients and relays insist on.

use std::net::Ipv4Addr;

use dhcproto::v4::MessageType;

use super::options::RawOption;
use super::request::Request;

/// The smallest BOOTP message (RFC 951 / RFC 1542 §3.3).
pub const BOOTP_MIN_LEN: usize = 300;
/// The magic cookie that starts the options field (RFC 2131 §3).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// The client port and server port (RFC 2131 §4.1).
pub const CLIENT_PORT: u16 = 68;
pub const SERVER_PORT: u16 = 67;

/// Where a reply goes, per RFC 2131 §4.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// `giaddr` was set: to the relay agent, port 67.
    Relay(Ipv4Addr),
    /// `ciaddr` was set: unicast to the client's address, port 68.
    Unicast(Ipv4Addr),
    /// To 255.255.255.255:68 (broadcast flag set, or a NAK).
    Broadcast,
    /// Unicast to the address being given, port 68: the client cannot answer
    /// ARP for it yet, so the sender first puts `chaddr` into the ARP table
    /// for `addr`, and broadcasts instead if it cannot.
    UnicastNoArp { addr: Ipv4Addr, chaddr: [u8; 6] },
}

impl Destination {
    /// The RFC 2131 §4.1 choice for a reply to `req` that gives `yiaddr`.
    pub fn choose(req: &Request, reply_type: MessageType, yiaddr: Ipv4Addr) -> Destination {
        if !req.giaddr.is_unspecified() {
            Destination::Relay(req.giaddr)
        } else if reply_type == MessageType::Nak {
            Destination::Broadcast
        } else if !req.ciaddr.is_unspecified() {
            Destination::Unicast(req.ciaddr)
        } else if req.broadcast_flag || yiaddr.is_unspecified() {
            Destination::Broadcast
        } else {
            Destination::UnicastNoArp {
                addr: yiaddr,
                chaddr: req.chaddr,
            }
        }
    }
}

/// A reply ready for the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub bytes: Vec<u8>,
    pub dest: Destination,
    pub msg_type: MessageType,
    /// The address given (OFFER/ACK), else 0.0.0.0; for logs.
    pub yiaddr: Ipv4Addr,
    /// This ACK grants or extends a lease: send it only once the lease table
    /// that holds it is on disk.
    pub needs_commit: bool,
}

/// Encodes a BOOTREPLY to `req`, with `options` in the given order, followed
/// by End and padding to [`BOOTP_MIN_LEN`].
pub(crate) fn encode(
    req: &Request,
    ciaddr: Ipv4Addr,
    yiaddr: Ipv4Addr,
    options: &[RawOption],
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(BOOTP_MIN_LEN + 64);
    buf.push(2); // op: BOOTREPLY
    buf.push(1); // htype: Ethernet
    buf.push(6); // hlen
    buf.push(0); // hops
    buf.extend_from_slice(&req.xid.to_be_bytes());
    buf.extend_from_slice(&[0, 0]); // secs
    // flags: echo the broadcast bit; relays use it to decide how to deliver.
    let flags: u16 = if req.broadcast_flag { 0x8000 } else { 0 };
    buf.extend_from_slice(&flags.to_be_bytes());
    buf.extend_from_slice(&ciaddr.octets());
    buf.extend_from_slice(&yiaddr.octets());
    buf.extend_from_slice(&[0; 4]); // siaddr: no next server
    buf.extend_from_slice(&req.giaddr.octets());
    buf.extend_from_slice(&req.chaddr);
    buf.extend_from_slice(&[0; 10]); // rest of chaddr
    buf.extend_from_slice(&[0; 64 + 128]); // sname, file
    buf.extend_from_slice(&MAGIC_COOKIE);
    for opt in options {
        put(&mut buf, opt.code, &opt.data);
    }
    // RFC 3046 §2.2: a relay's option 82 comes back as the last option.
    if let Some(info) = req.relay_agent_info.as_deref() {
        put(&mut buf, 82, info);
    }
    buf.push(255); // End
    if buf.len() < BOOTP_MIN_LEN {
        buf.resize(BOOTP_MIN_LEN, 0);
    }
    buf
}

/// One option; past 255 bytes, several of the same code (RFC 3396).
fn put(buf: &mut Vec<u8>, code: u8, data: &[u8]) {
    if data.is_empty() {
        buf.extend_from_slice(&[code, 0]);
    }
    for chunk in data.chunks(255) {
        buf.push(code);
        buf.push(chunk.len() as u8);
        buf.extend_from_slice(chunk);
    }
}
