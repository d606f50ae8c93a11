//! A DHCP load as a relay agent sees it: new random MACs, DISCOVER, then
//! REQUEST for what was offered, as many in flight as a window allows,
//! from port 67 of the relay's address; every ACK received is recorded.
//! It runs on a thread inside the client namespace until told to stop,
//! and keeps going while the server is dead (the exchanges then time out).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use dhcproto::v4::{DhcpOption, Flags, Message, MessageType, OptionCode};
use dhcproto::{Decodable, Decoder, Encodable};
use netd_testkit::dhcp_wire::{msg_type, server_id};
use netd_testkit::lab::{Netns, in_netns};

/// Exchanges in flight at once.
const WINDOW: usize = 64;
/// An exchange without an answer for this long is given up.
const GIVE_UP: Duration = Duration::from_millis(500);

/// One ACK the load received: the server had made the lease durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    pub mac: [u8; 6],
    pub addr: Ipv4Addr,
    /// Unix time the ACK arrived, plus its lease time.
    pub ends_no_earlier_than: u64,
}

/// Starts the load; `stop` ends it, and the thread returns every ACK.
pub fn start(
    ns: &Netns,
    relay: Ipv4Addr,
    server: Ipv4Addr,
    seed: u64,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<Ack>> {
    let ns = ns.clone();
    std::thread::spawn(move || in_netns(&ns, move || run(relay, server, seed, &stop)))
}

fn run(relay: Ipv4Addr, server: Ipv4Addr, seed: u64, stop: &AtomicBool) -> Vec<Ack> {
    let sock = UdpSocket::bind(SocketAddrV4::new(relay, 67)).expect("binding the relay's port 67");
    sock.set_read_timeout(Some(Duration::from_millis(2)))
        .unwrap();
    let to = SocketAddrV4::new(server, 67);
    let mut rng = seed | 1;
    let mut next_xid: u32 = (seed as u32) | 1;
    let mut in_flight: HashMap<u32, ([u8; 6], Instant)> = HashMap::new();
    let mut acks = Vec::new();
    let mut buf = [0u8; 1500];
    while !stop.load(Ordering::Relaxed) {
        in_flight.retain(|_, (_, at)| at.elapsed() < GIVE_UP);
        while in_flight.len() < WINDOW {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let b = rng.to_be_bytes();
            let mac = [0x02, b[0], b[1], b[2], b[3], b[4]];
            next_xid = next_xid.wrapping_add(1);
            let m = message(MessageType::Discover, mac, next_xid, relay);
            let _ = sock.send_to(&m.to_vec().unwrap(), to);
            in_flight.insert(next_xid, (mac, Instant::now()));
        }
        let Ok((n, _)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let Ok(reply) = Message::decode(&mut Decoder::new(&buf[..n])) else {
            continue;
        };
        let Some(&(mac, _)) = in_flight.get(&reply.xid()) else {
            continue;
        };
        match msg_type(&reply) {
            Some(MessageType::Offer) => {
                let mut req = message(MessageType::Request, mac, reply.xid(), relay);
                req.opts_mut()
                    .insert(DhcpOption::RequestedIpAddress(reply.yiaddr()));
                if let Some(sid) = server_id(&reply) {
                    req.opts_mut().insert(DhcpOption::ServerIdentifier(sid));
                }
                let _ = sock.send_to(&req.to_vec().unwrap(), to);
            }
            Some(MessageType::Ack) => {
                in_flight.remove(&reply.xid());
                let lease = match reply.opts().get(OptionCode::AddressLeaseTime) {
                    Some(DhcpOption::AddressLeaseTime(s)) => u64::from(*s),
                    _ => 0,
                };
                let now = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                acks.push(Ack {
                    mac,
                    addr: reply.yiaddr(),
                    ends_no_earlier_than: now + lease,
                });
            }
            _ => {
                in_flight.remove(&reply.xid());
            }
        }
    }
    acks
}

/// A relayed BOOTREQUEST: giaddr is the relay, replies come to its port 67.
fn message(kind: MessageType, mac: [u8; 6], xid: u32, relay: Ipv4Addr) -> Message {
    let mut m = Message::new_with_id(
        xid,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        relay,
        &mac,
    );
    m.set_flags(Flags::default());
    m.set_hops(1);
    m.opts_mut().insert(DhcpOption::MessageType(kind));
    m
}
