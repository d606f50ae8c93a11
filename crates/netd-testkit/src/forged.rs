//! Packets a misbehaving container sends: forged on purpose, to check that
//! the daemon does not believe them.

use std::net::{Ipv6Addr, SocketAddrV6};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::lab::{Netns, in_netns};

/// ICMPv6 Neighbor Solicitation (RFC 4861 4.3).
const NEIGHBOR_SOLICIT: u8 = 135;

/// Sends, from inside `ns` on `ifname`, a Neighbor Solicitation for
/// `target` whose IPv6 source is `claimed` (an address `ns` does not have)
/// and whose source link-layer option is `lladdr` (another host's MAC):
/// the receiver's kernel notes `claimed` under `lladdr`. Sent `count` times.
pub fn neighbour_solicitation(
    ns: &Netns,
    ifname: &str,
    claimed: Ipv6Addr,
    lladdr: [u8; 6],
    target: Ipv6Addr,
    count: usize,
) {
    let ifname = ifname.to_owned();
    in_netns(ns, move || {
        let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6)).expect("raw ICMPv6");
        s.bind_device(Some(ifname.as_bytes()))
            .expect("SO_BINDTODEVICE");
        s.set_freebind_v6(true).expect("IPV6_FREEBIND");
        s.bind(&SockAddr::from(SocketAddrV6::new(claimed, 0, 0, 0)))
            .expect("bind to the claimed address");
        s.set_unicast_hops_v6(255).expect("hop limit");
        let mut m = vec![NEIGHBOR_SOLICIT, 0, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&target.octets());
        // Source link-layer address option: type 1, 8 bytes.
        m.extend_from_slice(&[1, 1]);
        m.extend_from_slice(&lladdr);
        let to = SockAddr::from(SocketAddrV6::new(target, 0, 0, 0));
        for _ in 0..count {
            s.send_to(&m, &to).expect("send the solicitation");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    });
}
