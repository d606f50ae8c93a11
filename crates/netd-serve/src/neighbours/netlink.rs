//! Netlink neighbour messages (RTM_NEWNEIGH/RTM_DELNEIGH, and dumps) read
//! into the core's [`NeighbourEvent`]s.

use std::net::IpAddr;

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
}
