//! What the host network should look like: the bridge's name and addresses.

use crate::defaults;
use crate::nft::Ruleset;
use ipnetwork::{Ipv4Network, Ipv6Network};

/// What the bridge's forward chain does with a new connection from outside
/// (another interface of the host) into the bridge. What leaves the bridge
/// is always accepted, and so are its replies and related traffic (ICMP
/// errors) coming back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Inbound {
    /// Dropped: the containers sit behind NAT as a home network sits
    /// behind its router, even for a host on the uplink that routes the
    /// containers' prefix to us. The default.
    #[default]
    Drop,
    /// Accepted (`up --allow-inbound`): for hosts that route to their
    /// containers, or forward ports to them with DNAT.
    Allow,
}

impl Inbound {
    /// `drop` or `allow`, as the doctor and the logs say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Inbound::Drop => "drop",
            Inbound::Allow => "allow",
        }
    }
}

/// The bridge nspawn-netd sets up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeConfig {
    /// Interface name, e.g. `nat0`.
    pub name: String,
    /// The bridge's own IPv4 address with the containers' prefix
    /// (`192.168.26.1/24`): the gateway, DNS and DHCP server address.
    pub ipv4: Ipv4Network,
    /// The bridge's own IPv6 address and prefix (`fd23::1/64`); `None`
    /// turns IPv6 off: no address, no IPv6 forwarding, no NAT66.
    pub ipv6: Option<Ipv6Network>,
    /// New connections into the bridge from outside: dropped unless
    /// `up --allow-inbound`.
    pub inbound: Inbound,
}

impl BridgeConfig {
    /// The defaults of the documented recipe: `nat0`, 192.168.26.1/24, fd23::1/64.
    pub fn default_nat0() -> BridgeConfig {
        BridgeConfig {
            name: defaults::BRIDGE.into(),
            ipv4: defaults::IPV4.parse().expect("static network"),
            ipv6: Some(defaults::IPV6.parse().expect("static network")),
            inbound: Inbound::default(),
        }
    }

    /// Our nf_tables table for this bridge: NAT of its subnets, the
    /// accepts its services need, and the inbound policy.
    pub fn ruleset(&self) -> Ruleset {
        Ruleset {
            inbound: self.inbound,
            bridge: self.name.clone(),
            ipv4: Ipv4Network::new(self.ipv4.network(), self.ipv4.prefix()).expect("valid prefix"),
            ipv6: self
                .ipv6
                .map(|n| Ipv6Network::new(n.network(), n.prefix()).expect("valid prefix")),
        }
    }

    /// The bridge's MAC address, derived from its name so it stays the
    /// same across restarts and does not follow the lowest port's MAC (a
    /// bridge without a fixed MAC changes address as containers join).
    pub fn mac(&self) -> [u8; 6] {
        bridge_mac(&self.name)
    }
}

/// A locally administered unicast MAC from a 64-bit FNV-1a hash of `name`.
pub fn bridge_mac(name: &str) -> [u8; 6] {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let b = h.to_be_bytes();
    [(b[0] & 0xfe) | 0x02, b[1], b[2], b[3], b[4], b[5]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mac_is_stable_local_and_unicast() {
        let a = bridge_mac("nat0");
        assert_eq!(a, bridge_mac("nat0"));
        assert_ne!(a, bridge_mac("nat1"));
        assert_eq!(a[0] & 0x03, 0x02, "locally administered, unicast: {a:02x?}");
    }

    #[test]
    fn the_ruleset_uses_the_subnets_not_the_host_addresses() {
        let r = BridgeConfig::default_nat0().ruleset();
        assert_eq!(r.ipv4.to_string(), "192.168.26.0/24");
        assert_eq!(r.ipv6.unwrap().to_string(), "fd23::/64");
    }
}
