//! What the server would warn about: conditions an operator should see,
//! which a client can repeat as fast as it sends packets (a flood of
//! DISCOVERs on a full pool). The core only queues them, bounded; the
//! shell, which owns the clock, logs them at a rate limit with a count of
//! the ones it did not print.

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use crate::MacAddr;

/// At most this many warnings wait for the shell; later ones are dropped
/// (each is also counted in the server's statistics).
pub(crate) const MAX_QUEUED: usize = 64;

/// One condition worth a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    /// A DISCOVER found no free address.
    NoAddressAvailable { mac: MacAddr },
    /// A client declined its address (in use by another host on the link?).
    Declined { addr: Ipv4Addr, mac: MacAddr },
    /// A pool address answered our ARP probe: a host uses it without a
    /// lease.
    InUse { addr: Ipv4Addr, mac: MacAddr },
    /// A relay agent forwarded a request from a subnet no range serves.
    NoRange { relay: Ipv4Addr, mac: MacAddr },
}

/// The kinds, as [`Warning::kind`] names them.
pub const NO_ADDRESS_AVAILABLE: &str = "no address available";
pub const DECLINED: &str = "client declined its address";
pub const IN_USE: &str = "pool address in use without a lease";
pub const NO_RANGE: &str = "relayed request from a subnet no range serves";

impl Warning {
    /// The kind, without the client: what a rate limit counts by.
    pub fn kind(&self) -> &'static str {
        match self {
            Warning::NoAddressAvailable { .. } => NO_ADDRESS_AVAILABLE,
            Warning::Declined { .. } => DECLINED,
            Warning::InUse { .. } => IN_USE,
            Warning::NoRange { .. } => NO_RANGE,
        }
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::NoAddressAvailable { mac } => write!(f, "no address available for {mac}"),
            Warning::Declined { addr, mac } => write!(
                f,
                "{mac} declined {addr} (in use on the link?); holding it back"
            ),
            Warning::InUse { addr, mac } => write!(
                f,
                "{addr} answers ARP at {mac} without a lease (set by hand?); holding it back"
            ),
            Warning::NoRange { relay, mac } => write!(
                f,
                "no --dhcp-range serves the subnet of relay agent {relay} (request from {mac}); \
                 a relayed subnet needs START,END,NETMASK"
            ),
        }
    }
}

/// The bounded queue the server fills and the shell drains.
#[derive(Debug, Default)]
pub(crate) struct Warnings(VecDeque<Warning>);

impl Warnings {
    pub(crate) fn push(&mut self, w: Warning) {
        if self.0.len() < MAX_QUEUED {
            self.0.push_back(w);
        }
    }

    pub(crate) fn pop(&mut self) -> Option<Warning> {
        self.0.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_is_bounded_and_keeps_the_oldest() {
        let mut q = Warnings::default();
        for i in 0..(MAX_QUEUED as u8 + 10) {
            q.push(Warning::NoAddressAvailable {
                mac: MacAddr([2, 0, 0, 0, 0, i]),
            });
        }
        let mut n = 0;
        let first = q.pop();
        assert_eq!(
            first,
            Some(Warning::NoAddressAvailable {
                mac: MacAddr([2, 0, 0, 0, 0, 0])
            })
        );
        while q.pop().is_some() {
            n += 1;
        }
        assert_eq!(n + 1, MAX_QUEUED);
    }
}
