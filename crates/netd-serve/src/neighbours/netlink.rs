//! Netlink neighbour messages (RTM_NEWNEIGH/RTM_DELNEIGH, and dumps) read
//! into the core's [`NeighbourEvent`]s, and a one-off [`dump`] of an
//! interface's neighbours.

use std::net::IpAddr;

use futures::StreamExt;
use netd_proto::MacAddr;
use netd_proto::neighbours::NeighbourEvent;
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState,
};

/// Reads a netlink neighbour message of interface `ifindex`; `deleted` for
/// RTM_DELNEIGH. Entries of other interfaces, and without an address, give
/// `None`.
pub fn event_from_message(
    msg: &NeighbourMessage,
    deleted: bool,
    ifindex: u32,
) -> Option<NeighbourEvent> {
    if msg.header.ifindex != ifindex {
        return None;
    }
    let mut addr = None;
    let mut mac = None;
    for attr in &msg.attributes {
        match attr {
            NeighbourAttribute::Destination(NeighbourAddress::Inet6(a)) => {
                addr = Some(IpAddr::V6(*a))
            }
            NeighbourAttribute::Destination(NeighbourAddress::Inet(a)) => {
                addr = Some(IpAddr::V4(*a))
            }
            NeighbourAttribute::LinkLayerAddress(l) => mac = <[u8; 6]>::try_from(&l[..]).ok(),
            _ => {}
        }
    }
    let addr = addr?;
    let answered = matches!(
        msg.header.state,
        NeighbourState::Reachable
            | NeighbourState::Stale
            | NeighbourState::Delay
            | NeighbourState::Probe
            | NeighbourState::Permanent
    );
    match (deleted, answered, mac) {
        (false, true, Some(mac)) => Some(NeighbourEvent::Present { addr, mac }),
        _ => Some(NeighbourEvent::Gone { addr }),
    }
}

/// Why [`dump`] could not read the table.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error(transparent)]
    Interface(#[from] crate::iface::IfaceError),
    #[error("opening a netlink socket: {0}")]
    Netlink(#[from] std::io::Error),
    #[error("dumping the neighbour table: {0}")]
    Dump(#[from] rtnetlink::Error),
}

/// The neighbours of interface `ifname` that the kernel has seen answer
/// (as [`event_from_message`] reads them), IPv4 and IPv6, in the kernel's
/// order: what `ip neigh show dev IFNAME` lists with a link-layer address.
/// Must run inside a tokio runtime.
pub async fn dump(ifname: &str) -> Result<Vec<(MacAddr, IpAddr)>, DumpError> {
    let ifindex = crate::iface::interface_info(ifname).await?.index;
    dump_index(ifindex).await
}

/// [`dump`] of the interface with index `ifindex`: one netlink dump, no
/// other lookup (what `status` does for every answer).
pub async fn dump_index(ifindex: u32) -> Result<Vec<(MacAddr, IpAddr)>, DumpError> {
    let (conn, handle, _) = rtnetlink::new_connection()?;
    let conn = tokio::spawn(conn);
    let mut messages = handle.neighbours().get().execute();
    let mut out = Vec::new();
    let result = loop {
        match messages.next().await {
            None => break Ok(out),
            Some(Err(e)) => break Err(DumpError::Dump(e)),
            Some(Ok(msg)) => {
                if let Some(NeighbourEvent::Present { addr, mac }) =
                    event_from_message(&msg, false, ifindex)
                {
                    out.push((MacAddr(mac), addr));
                }
            }
        }
    };
    conn.abort();
    result
}

/// [`dump_index`] without the runtime: one blocking netlink dump on a
/// socket of its own. The kernel answers a neighbour dump from its table
/// at once (it never waits on the network), and doing it in one call
/// spares a caller on a busy runtime the several turns the asynchronous
/// dump takes (`status` under a DNS flood).
pub fn dump_now(ifindex: u32) -> std::io::Result<Vec<(MacAddr, IpAddr)>> {
    use netlink_packet_core::{
        NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    };
    use netlink_packet_route::RouteNetlinkMessage;
    use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

    let bad = |e: netlink_packet_core::DecodeError| std::io::Error::other(e.to_string());
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.sequence_number = 1;
    let mut request = NetlinkMessage::new(
        header,
        NetlinkPayload::InnerMessage(RouteNetlinkMessage::GetNeighbour(
            NeighbourMessage::default(),
        )),
    );
    request.finalize();
    let mut buf = vec![0u8; request.buffer_len()];
    request.serialize(&mut buf);
    socket.send(&buf, 0)?;
    let mut out = Vec::new();
    loop {
        let (bytes, _) = socket.recv_from_full()?;
        let mut at = 0;
        while at < bytes.len() {
            let msg =
                NetlinkMessage::<RouteNetlinkMessage>::deserialize(&bytes[at..]).map_err(bad)?;
            let len = msg.header.length as usize;
            match msg.payload {
                NetlinkPayload::Done(_) => return Ok(out),
                NetlinkPayload::Error(e) => {
                    return Err(e.code.map_or_else(
                        || std::io::Error::other("netlink error"),
                        |c| std::io::Error::from_raw_os_error(-c.get()),
                    ));
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewNeighbour(n)) => {
                    if let Some(NeighbourEvent::Present { addr, mac }) =
                        event_from_message(&n, false, ifindex)
                    {
                        out.push((MacAddr(mac), addr));
                    }
                }
                _ => {}
            }
            if len == 0 {
                break;
            }
            at += len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_route::AddressFamily;

    const MAC_A: [u8; 6] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

    fn v6(s: &str) -> IpAddr {
        IpAddr::V6(s.parse().unwrap())
    }

    fn message(state: NeighbourState, addr: &str, mac: Option<[u8; 6]>) -> NeighbourMessage {
        let mut m = NeighbourMessage::default();
        m.header.family = AddressFamily::Inet6;
        m.header.ifindex = 7;
        m.header.state = state;
        m.attributes
            .push(NeighbourAttribute::Destination(NeighbourAddress::Inet6(
                addr.parse().unwrap(),
            )));
        if let Some(mac) = mac {
            m.attributes
                .push(NeighbourAttribute::LinkLayerAddress(mac.to_vec()));
        }
        m
    }

    #[test]
    fn netlink_states_map_to_events() {
        let a = v6("fd23::5");
        for state in [
            NeighbourState::Reachable,
            NeighbourState::Stale,
            NeighbourState::Delay,
        ] {
            assert_eq!(
                event_from_message(&message(state, "fd23::5", Some(MAC_A)), false, 7),
                Some(NeighbourEvent::Present {
                    addr: a,
                    mac: MAC_A
                })
            );
        }
        for state in [NeighbourState::Incomplete, NeighbourState::Failed] {
            assert_eq!(
                event_from_message(&message(state, "fd23::5", None), false, 7),
                Some(NeighbourEvent::Gone { addr: a })
            );
        }
        let m = message(NeighbourState::Reachable, "fd23::5", Some(MAC_A));
        assert_eq!(
            event_from_message(&m, true, 7),
            Some(NeighbourEvent::Gone { addr: a })
        );
        assert_eq!(event_from_message(&m, false, 8), None, "another interface");
    }

    #[tokio::test]
    async fn dumps_an_interface_and_names_a_missing_one() {
        // Loopback has no link-layer neighbours, but the dump must work.
        assert_eq!(dump("lo").await.unwrap(), []);
        let err = dump("no-such-if0").await.unwrap_err();
        assert!(err.to_string().contains("no-such-if0"), "{err}");
    }

    #[tokio::test]
    async fn the_blocking_dump_agrees_with_the_asynchronous_one() {
        // Interface 1 is loopback: no link-layer neighbours, but both dumps
        // must read the whole answer.
        assert_eq!(dump_now(1).unwrap(), dump_index(1).await.unwrap());
    }
}
