//! The defaults of the documented recipe, in one place: `up`, `ra`,
//! `doctor`, `container create` and the daemon's hints all read them here.

/// The bridge's name.
pub const BRIDGE: &str = "nat0";
/// The bridge's IPv4 address and the containers' prefix: gateway, DNS and
/// DHCP server.
pub const IPV4: &str = "192.168.26.1/24";
/// The bridge's IPv4 address alone, where a DNS server address is wanted.
pub const IPV4_ADDR: &str = "192.168.26.1";
/// The bridge's IPv6 address and the advertised prefix.
pub const IPV6: &str = "fd23::1/64";
/// The advertised IPv6 prefix.
pub const IPV6_PREFIX: &str = "fd23::/64";
/// The DHCPv4 pool, as host numbers inside the bridge's IPv4 prefix.
pub const POOL_FIRST_HOST: u32 = 20;
pub const POOL_LAST_HOST: u32 = 100;
/// The DHCPv4 lease time `up` asks for (dnsmasq's own default is 1h).
pub const LEASE: &str = "12h";

#[cfg(test)]
mod tests {
    use ipnetwork::{Ipv4Network, Ipv6Network};

    use super::*;

    #[test]
    fn the_defaults_agree_with_each_other() {
        let v4: Ipv4Network = IPV4.parse().unwrap();
        assert_eq!(v4.ip().to_string(), IPV4_ADDR);
        let v6: Ipv6Network = IPV6.parse().unwrap();
        let prefix: Ipv6Network = IPV6_PREFIX.parse().unwrap();
        assert_eq!(v6.network(), prefix.network());
        assert!(POOL_FIRST_HOST < POOL_LAST_HOST && POOL_LAST_HOST < v4.size() - 1);
    }
}
