//! Static host entries (`--dhcp-host`) and which one a client matches.
//!
//! An entry names its client by hardware address (several may be given,
//! and any octet may be a wildcard), by client identifier, or by the
//! hostname the client sends. A client is matched in this order, as
//! dnsmasq does: its client identifier (also with a zero byte in front,
//! which some clients add to a text identifier); an exact hardware address;
//! its hostname (only entries that name no hardware address or identifier:
//! such an entry belongs to those); then the wildcard hardware address with
//! the fewest wildcard octets, the earlier entry winning a tie.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::config::LeaseTime;
use super::tags::Tag;

/// ARP hardware type of Ethernet (RFC 1700), the only one served.
pub const HTYPE_ETHERNET: u8 = 1;

/// One hardware address of an entry: `aa:*:cc:..`, with an optional
/// hardware type (`1-aa:bb:..`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MacPattern {
    /// `None` when no `TYPE-` prefix was given: any type matches.
    pub hw_type: Option<u8>,
    pub octets: [u8; 6],
    /// Bit `i` set: octet `i` is a wildcard (`*`).
    pub wildcards: u8,
}

impl MacPattern {
    /// A pattern matching exactly `mac`.
    pub const fn exact(mac: [u8; 6]) -> MacPattern {
        MacPattern {
            hw_type: None,
            octets: mac,
            wildcards: 0,
        }
    }

    pub fn is_exact(&self) -> bool {
        self.wildcards == 0
    }

    /// Does an Ethernet client's `mac` match?
    pub fn matches(&self, mac: &[u8; 6]) -> bool {
        self.hw_type.is_none_or(|t| t == HTYPE_ETHERNET)
            && (0..6).all(|i| self.wildcards & (1 << i) != 0 || self.octets[i] == mac[i])
    }
}

/// A `--dhcp-host` entry: how its client is recognised, and what it gets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reservation {
    /// Hardware addresses that are this client's (any of them).
    pub macs: Vec<MacPattern>,
    /// `id:...`: the client identifier (option 61) that is this client's.
    pub client_id: Option<Vec<u8>>,
    /// `id:*`: the client's identifier is ignored, its lease filed under
    /// its hardware address (a host that changes its identifier between
    /// boot stages keeps one lease).
    pub ignore_client_id: bool,
    /// Always this address, whatever the pool says; never anyone else's.
    pub addr: Option<Ipv4Addr>,
    /// Published in DNS even when the client sends no hostname; without a
    /// hardware address or identifier, it is what the entry matches.
    pub hostname: Option<String>,
    /// Overrides the range's lease time for this host.
    pub lease_time: Option<LeaseTime>,
    /// `ignore`: this client gets no answer at all.
    pub ignore: bool,
    /// `set:TAG`: tags given to this client's requests.
    pub tags: Vec<Tag>,
}

impl Reservation {
    /// `MAC,IP`: the simplest entry.
    pub fn for_mac(mac: [u8; 6], addr: Ipv4Addr) -> Reservation {
        Reservation {
            macs: vec![MacPattern::exact(mac)],
            addr: Some(addr),
            ..Reservation::default()
        }
    }

    /// Matched by the hostname the client sends, and only by that.
    fn by_name_only(&self) -> bool {
        self.macs.is_empty() && self.client_id.is_none()
    }
}

/// What a client shows of itself to be matched against the entries.
#[derive(Debug, Clone, Copy)]
pub struct HostQuery<'a> {
    pub mac: &'a [u8; 6],
    pub client_id: Option<&'a [u8]>,
    pub hostname: Option<&'a str>,
}

/// The entries, indexed for matching.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hosts {
    entries: Vec<Reservation>,
    by_client_id: HashMap<Vec<u8>, usize>,
    by_mac: HashMap<[u8; 6], usize>,
    by_name: HashMap<String, usize>,
    /// Entries with a wildcard hardware address (or a hardware type).
    patterns: Vec<usize>,
}

impl Hosts {
    pub(crate) fn new(entries: Vec<Reservation>) -> Hosts {
        let mut h = Hosts::default();
        for (i, e) in entries.iter().enumerate() {
            if let Some(id) = &e.client_id {
                h.by_client_id.entry(id.clone()).or_insert(i);
            }
            for m in &e.macs {
                if m.is_exact() && m.hw_type.is_none_or(|t| t == HTYPE_ETHERNET) {
                    h.by_mac.entry(m.octets).or_insert(i);
                } else if !h.patterns.contains(&i) {
                    h.patterns.push(i);
                }
            }
            if e.by_name_only()
                && let Some(name) = &e.hostname
            {
                h.by_name.entry(name.to_ascii_lowercase()).or_insert(i);
            }
        }
        h.entries = entries;
        h
    }

    pub(crate) fn entries(&self) -> &[Reservation] {
        &self.entries
    }

    /// The entry `q`'s client matches, if any.
    pub(crate) fn find(&self, q: &HostQuery<'_>) -> Option<&Reservation> {
        self.find_index(q).map(|i| &self.entries[i])
    }

    fn find_index(&self, q: &HostQuery<'_>) -> Option<usize> {
        if let Some(id) = q.client_id.filter(|id| !id.is_empty()) {
            let found = self.by_client_id.get(id).or_else(|| match id {
                [0, rest @ ..] => self.by_client_id.get(rest),
                _ => None,
            });
            if let Some(&i) = found {
                return Some(i);
            }
        }
        if let Some(&i) = self.by_mac.get(q.mac) {
            return Some(i);
        }
        if let Some(name) = q.hostname
            && let Some(&i) = self.by_name.get(&name.to_ascii_lowercase())
        {
            return Some(i);
        }
        let mut best: Option<(u32, usize)> = None;
        for &i in &self.patterns {
            for m in &self.entries[i].macs {
                if !m.matches(q.mac) {
                    continue;
                }
                let wild = m.wildcards.count_ones();
                if best.is_none_or(|(w, _)| wild < w) {
                    best = Some((wild, i));
                }
            }
        }
        best.map(|(_, i)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q<'a>(mac: &'a [u8; 6], id: Option<&'a [u8]>, name: Option<&'a str>) -> HostQuery<'a> {
        HostQuery {
            mac,
            client_id: id,
            hostname: name,
        }
    }

    fn addr(last: u8) -> Option<Ipv4Addr> {
        Some(Ipv4Addr::new(10, 0, 0, last))
    }

    fn wild(octets: [u8; 6], wildcards: u8) -> MacPattern {
        MacPattern {
            hw_type: None,
            octets,
            wildcards,
        }
    }

    #[test]
    fn any_of_several_macs_matches_and_others_do_not() {
        let mut r = Reservation::for_mac([1; 6], Ipv4Addr::new(10, 0, 0, 5));
        r.macs.push(MacPattern::exact([2; 6]));
        let hosts = Hosts::new(vec![r]);
        assert_eq!(hosts.find(&q(&[1; 6], None, None)).unwrap().addr, addr(5));
        assert_eq!(hosts.find(&q(&[2; 6], None, None)).unwrap().addr, addr(5));
        assert!(hosts.find(&q(&[3; 6], None, None)).is_none());
    }

    #[test]
    fn the_exact_mac_beats_a_wildcard_and_fewer_wildcards_win() {
        let hosts = Hosts::new(vec![
            Reservation {
                macs: vec![wild([0x52, 0x54, 0, 0, 0, 0], 0b11_1100)],
                addr: addr(20),
                ..Default::default()
            },
            Reservation {
                macs: vec![wild([0x52, 0x54, 0, 7, 0, 0], 0b11_0000)],
                addr: addr(21),
                ..Default::default()
            },
            Reservation::for_mac([0x52, 0x54, 0, 7, 7, 7], Ipv4Addr::new(10, 0, 0, 22)),
        ]);
        let find = |m: [u8; 6]| hosts.find(&q(&m, None, None)).and_then(|r| r.addr);
        assert_eq!(find([0x52, 0x54, 0, 7, 7, 7]), addr(22));
        assert_eq!(find([0x52, 0x54, 0, 7, 1, 2]), addr(21));
        assert_eq!(find([0x52, 0x54, 9, 9, 9, 9]), addr(20));
        assert_eq!(find([0x52, 0x55, 0, 7, 7, 7]), None);
    }

    #[test]
    fn a_hardware_type_other_than_ethernet_never_matches() {
        let mut p = MacPattern::exact([1; 6]);
        p.hw_type = Some(6);
        assert!(!p.matches(&[1; 6]));
        p.hw_type = Some(HTYPE_ETHERNET);
        assert!(p.matches(&[1; 6]));
        let hosts = Hosts::new(vec![Reservation {
            macs: vec![p],
            addr: addr(9),
            ..Default::default()
        }]);
        assert_eq!(hosts.find(&q(&[1; 6], None, None)).unwrap().addr, addr(9));
    }

    #[test]
    fn the_client_id_wins_over_the_mac_also_with_a_leading_zero() {
        let hosts = Hosts::new(vec![
            Reservation::for_mac([1; 6], Ipv4Addr::new(10, 0, 0, 5)),
            Reservation {
                client_id: Some(b"laptop".to_vec()),
                addr: addr(6),
                ..Default::default()
            },
        ]);
        assert_eq!(
            hosts.find(&q(&[1; 6], Some(b"laptop"), None)).unwrap().addr,
            addr(6)
        );
        assert_eq!(
            hosts
                .find(&q(&[1; 6], Some(b"\0laptop"), None))
                .unwrap()
                .addr,
            addr(6)
        );
        // Another identifier: the MAC still matches.
        assert_eq!(
            hosts.find(&q(&[1; 6], Some(b"other"), None)).unwrap().addr,
            addr(5)
        );
    }

    #[test]
    fn a_name_matches_only_entries_that_name_no_client_otherwise() {
        let mut with_mac = Reservation::for_mac([1; 6], Ipv4Addr::new(10, 0, 0, 5));
        with_mac.hostname = Some("web".into());
        let by_name = Reservation {
            hostname: Some("db".into()),
            addr: addr(7),
            ..Default::default()
        };
        let hosts = Hosts::new(vec![with_mac, by_name]);
        assert!(hosts.find(&q(&[2; 6], None, Some("web"))).is_none());
        assert_eq!(
            hosts.find(&q(&[2; 6], None, Some("DB"))).unwrap().addr,
            addr(7)
        );
    }
}
