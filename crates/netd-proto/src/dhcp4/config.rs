//! What the DHCPv4 server is told: its subnet, its pool, the options it hands
//! out and the static reservations. Built by the binary from the command line
//! or configuration file; never read from disk here.

use std::net::Ipv4Addr;
use std::time::Duration;

use ipnetwork::Ipv4Network;

pub(crate) use super::hosts::Reservation;
use super::option_spec::Dhcp4Option;
use super::tags::Tag;

/// How long a lease lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseTime {
    /// A lease that expires after this long and must be renewed.
    Finite(Duration),
    /// dnsmasq's `infinite`: the lease never expires (option 51 = 0xffffffff).
    Infinite,
}

/// dnsmasq raises shorter leases to two minutes; so do we.
pub const MIN_LEASE: Duration = Duration::from_secs(120);

/// `12h`, `45m`, `30s`, `1d`, `2w`, a number of seconds, or `infinite`, as
/// dnsmasq writes lease times; shorter than [`MIN_LEASE`] is raised to it.
pub fn parse_lease_time(s: &str) -> Result<LeaseTime, String> {
    if s.eq_ignore_ascii_case("infinite") {
        return Ok(LeaseTime::Infinite);
    }
    let (digits, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c.to_ascii_lowercase()),
        _ => (s, 's'),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a lease time (12h, 45m, 3600, infinite)"))?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return Err(format!("{s:?}: unknown lease time unit {unit:?}")),
    };
    let secs = n
        .checked_mul(mult)
        .filter(|&v| v < u64::from(u32::MAX))
        .ok_or_else(|| format!("{s:?} is too long a lease; use infinite"))?;
    Ok(LeaseTime::Finite(Duration::from_secs(secs).max(MIN_LEASE)))
}

impl LeaseTime {
    /// dnsmasq's default lease time: one hour.
    pub const DEFAULT: LeaseTime = LeaseTime::Finite(Duration::from_secs(3600));
}

/// One `--dhcp-range`: a subnet, the pool in it, and what its clients get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dhcp4Range {
    pub subnet: Ipv4Network,
    /// First address of the dynamic pool, inclusive.
    pub start: Ipv4Addr,
    /// Last address of the dynamic pool, inclusive.
    pub end: Ipv4Addr,
    /// `--dhcp-range=ADDR,static`: no dynamic pool at all; only hosts with
    /// a reservation get an address (the pool bounds are then unused).
    pub static_only: bool,
    pub lease_time: LeaseTime,
    /// Tags every request served from the range carries
    /// (`--dhcp-range=set:TAG,...`).
    pub tags: Vec<Tag>,
    /// The server's own address in the subnet, when the subnet is on the
    /// interface: the server identifier and default router of its clients.
    /// `None` for a subnet reached through a relay agent: its clients get
    /// [`Dhcp4Config::server_addr`] as server identifier and the relay's
    /// address (giaddr) as default router, as from dnsmasq.
    pub local: Option<Ipv4Addr>,
}

impl Dhcp4Range {
    /// A range of a subnet on the interface, where the server is `local`.
    pub fn on_link(
        subnet: Ipv4Network,
        local: Ipv4Addr,
        start: Ipv4Addr,
        end: Ipv4Addr,
    ) -> Dhcp4Range {
        Dhcp4Range {
            subnet,
            start,
            end,
            static_only: false,
            lease_time: LeaseTime::DEFAULT,
            tags: Vec::new(),
            local: Some(local),
        }
    }

    /// The server identifier its clients get.
    pub fn server_id(&self, primary: Ipv4Addr) -> Ipv4Addr {
        self.local.unwrap_or(primary)
    }
}

/// Everything the DHCPv4 server needs to decide what to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dhcp4Config {
    /// The server's own address on the interface: server identifier of
    /// relayed subnets, and never handed to a client.
    pub server_addr: Ipv4Addr,
    /// The ranges, in the order given: a new client gets an address from
    /// the first of those serving its network that has one free. Two
    /// ranges' subnets are either the same or apart.
    pub ranges: Vec<Dhcp4Range>,
    /// Option 6; empty when the DNS forwarder is off (`--port=0`).
    pub dns_servers: Vec<Ipv4Addr>,
    /// Options 15 and 119 when set.
    pub domain: Option<String>,
    /// Option 26 when set.
    pub mtu: Option<u16>,
    /// `--dhcp-option`/`--dhcp-option-force`: laid over the options above.
    pub options: Vec<Dhcp4Option>,
    /// Answer a DISCOVER carrying option 80 with an ACK (RFC 4039,
    /// `--dhcp-rapid-commit`).
    pub rapid_commit: bool,
    /// Key leases by MAC alone, whatever client identifier the client sends
    /// (`--dhcp-ignore-clid`).
    pub ignore_client_id: bool,
    pub reservations: Vec<Reservation>,
    /// NAK requests for addresses that are not ours or not the client's
    /// (dnsmasq's `--dhcp-authoritative`, which libvirt and Incus turn on).
    pub authoritative: bool,
    /// How long a DECLINEd address is kept out of the pool.
    pub decline_hold: Duration,
}
