//! Router Advertisement and Router Solicitation messages (RFC 4861 4.1, 4.2):
//! a checked view over the ICMPv6 bytes ([`RouterAdvert`]) whose accessors
//! never panic once [`RouterAdvert::new_checked`] succeeded, and parsed
//! representations ([`RouterAdvertRepr`], [`RouterSolicitRepr`]) with
//! `parse`, `emit` and `buffer_len`.
//!
//! The ICMPv6 checksum is left zero by `emit`: the raw socket has the kernel
//! fill it in (and check it on receipt), as RFC 3542 specifies for ICMPv6.

use std::net::Ipv6Addr;

use super::WireError;
use super::option::{
    DnsSearchList, NDP_OPT_DNSSL, NDP_OPT_MTU, NDP_OPT_PREFIX_INFORMATION, NDP_OPT_RDNSS,
    NDP_OPT_SOURCE_LL_ADDR, OptionIter, PrefixInformation, RecursiveDnsServers, be32, dnssl_len,
    emit_dnssl, emit_prefix, emit_rdnss, parse_dnssl, parse_prefix, parse_rdnss,
};

/// ICMPv6 type of a Router Solicitation.
pub const ICMPV6_ROUTER_SOLICIT: u8 = 133;
/// ICMPv6 type of a Router Advertisement.
pub const ICMPV6_ROUTER_ADVERT: u8 = 134;
/// The hop limit every Neighbor Discovery message carries (RFC 4861 6.1).
pub const ND_HOP_LIMIT: u8 = 255;

const RA_HEADER_LEN: usize = 16;
const RS_HEADER_LEN: usize = 8;
const FLAG_MANAGED: u8 = 0x80;
const FLAG_OTHER: u8 = 0x40;
const PREFERENCE_SHIFT: u8 = 3;

/// Default Router Preference (RFC 4191 2.2), the two `Prf` bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RouterPreference {
    High,
    #[default]
    Medium,
    Low,
}

impl RouterPreference {
    fn bits(self) -> u8 {
        match self {
            RouterPreference::High => 0b01,
            RouterPreference::Medium => 0b00,
            RouterPreference::Low => 0b11,
        }
    }

    fn from_bits(b: u8) -> Self {
        match b & 0b11 {
            0b01 => RouterPreference::High,
            0b11 => RouterPreference::Low,
            // 0b10 is reserved and MUST be treated as medium.
            _ => RouterPreference::Medium,
        }
    }
}

/// A checked view of a Router Advertisement's ICMPv6 bytes.
#[derive(Debug, Clone)]
pub struct RouterAdvert<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RouterAdvert<T> {
    /// Wraps `buffer` without checks; use [`Self::check_len`] before reading.
    pub fn new_unchecked(buffer: T) -> Self {
        RouterAdvert { buffer }
    }

    /// Wraps `buffer` after checking it is long enough for the fixed header.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    pub fn check_len(&self) -> Result<(), WireError> {
        if self.buffer.as_ref().len() < RA_HEADER_LEN {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[1]
    }
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.buffer.as_ref()[2], self.buffer.as_ref()[3]])
    }
    pub fn cur_hop_limit(&self) -> u8 {
        self.buffer.as_ref()[4]
    }
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[5]
    }
    /// Router lifetime in seconds; 0 = not a default router.
    pub fn router_lifetime(&self) -> u16 {
        u16::from_be_bytes([self.buffer.as_ref()[6], self.buffer.as_ref()[7]])
    }
    /// Reachable time in milliseconds; 0 = unspecified.
    pub fn reachable_time(&self) -> u32 {
        be32(&self.buffer.as_ref()[8..12])
    }
    /// Retransmission timer in milliseconds; 0 = unspecified.
    pub fn retrans_time(&self) -> u32 {
        be32(&self.buffer.as_ref()[12..16])
    }
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[RA_HEADER_LEN..]
    }
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

/// A Router Advertisement, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouterAdvertRepr {
    /// Hop limit hosts should use; 0 = unspecified.
    pub cur_hop_limit: u8,
    /// M: addresses are available by DHCPv6.
    pub managed: bool,
    /// O: other configuration (DNS) is available by DHCPv6.
    pub other_config: bool,
    pub preference: RouterPreference,
    /// Seconds hosts may use this router as default; 0 withdraws it.
    pub router_lifetime: u16,
    pub reachable_time: u32,
    pub retrans_time: u32,
    pub source_lladdr: Option<[u8; 6]>,
    pub mtu: Option<u32>,
    pub prefixes: Vec<PrefixInformation>,
    pub rdnss: Vec<RecursiveDnsServers>,
    pub dnssl: Vec<DnsSearchList>,
}

impl RouterAdvertRepr {
    /// Parses a Router Advertisement; unknown options are skipped as
    /// RFC 4861 requires, malformed known ones are an error.
    pub fn parse<T: AsRef<[u8]>>(p: &RouterAdvert<T>) -> Result<Self, WireError> {
        p.check_len()?;
        if p.msg_type() != ICMPV6_ROUTER_ADVERT {
            return Err(WireError::NotThisMessage(p.msg_type()));
        }
        if p.code() != 0 {
            return Err(WireError::BadCode(p.code()));
        }
        let flags = p.flags();
        let mut repr = RouterAdvertRepr {
            cur_hop_limit: p.cur_hop_limit(),
            managed: flags & FLAG_MANAGED != 0,
            other_config: flags & FLAG_OTHER != 0,
            preference: RouterPreference::from_bits(flags >> PREFERENCE_SHIFT),
            router_lifetime: p.router_lifetime(),
            reachable_time: p.reachable_time(),
            retrans_time: p.retrans_time(),
            ..Default::default()
        };
        for opt in OptionIter::new(p.options()) {
            let opt = opt?;
            match opt.kind {
                NDP_OPT_SOURCE_LL_ADDR => repr.source_lladdr = Some(parse_lladdr(opt.data)?),
                NDP_OPT_MTU => {
                    if opt.data.len() != 6 {
                        return Err(WireError::BadOption(NDP_OPT_MTU));
                    }
                    repr.mtu = Some(be32(&opt.data[2..6]));
                }
                NDP_OPT_PREFIX_INFORMATION => repr.prefixes.push(parse_prefix(opt.data)?),
                NDP_OPT_RDNSS => repr.rdnss.push(parse_rdnss(opt.data)?),
                NDP_OPT_DNSSL => repr.dnssl.push(parse_dnssl(opt.data)?),
                _ => {}
            }
        }
        Ok(repr)
    }

    /// Bytes [`Self::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        RA_HEADER_LEN
            + self.source_lladdr.map_or(0, |_| 8)
            + self.mtu.map_or(0, |_| 8)
            + self.prefixes.len() * 32
            + self
                .rdnss
                .iter()
                .filter(|r| !r.servers.is_empty())
                .map(|r| 8 + 16 * r.servers.len())
                .sum::<usize>()
            + self
                .dnssl
                .iter()
                .filter(|d| !d.domains.is_empty())
                .map(dnssl_len)
                .sum::<usize>()
    }

    /// The message bytes, checksum zero. RDNSS and DNSSL entries without
    /// servers or domains are left out (RFC 8106 requires at least one).
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buffer_len());
        let mut flags = self.preference.bits() << PREFERENCE_SHIFT;
        if self.managed {
            flags |= FLAG_MANAGED;
        }
        if self.other_config {
            flags |= FLAG_OTHER;
        }
        out.extend_from_slice(&[ICMPV6_ROUTER_ADVERT, 0, 0, 0, self.cur_hop_limit, flags]);
        out.extend_from_slice(&self.router_lifetime.to_be_bytes());
        out.extend_from_slice(&self.reachable_time.to_be_bytes());
        out.extend_from_slice(&self.retrans_time.to_be_bytes());
        if let Some(mac) = self.source_lladdr {
            out.extend_from_slice(&[NDP_OPT_SOURCE_LL_ADDR, 1]);
            out.extend_from_slice(&mac);
        }
        if let Some(mtu) = self.mtu {
            out.extend_from_slice(&[NDP_OPT_MTU, 1, 0, 0]);
            out.extend_from_slice(&mtu.to_be_bytes());
        }
        for p in &self.prefixes {
            emit_prefix(p, &mut out);
        }
        for r in self.rdnss.iter().filter(|r| !r.servers.is_empty()) {
            emit_rdnss(r, &mut out);
        }
        for d in self.dnssl.iter().filter(|d| !d.domains.is_empty()) {
            emit_dnssl(d, &mut out);
        }
        out
    }
}

fn parse_lladdr(data: &[u8]) -> Result<[u8; 6], WireError> {
    // Ethernet: the option is one unit, 6 bytes of address.
    let mac: [u8; 6] = data
        .try_into()
        .map_err(|_| WireError::BadOption(NDP_OPT_SOURCE_LL_ADDR))?;
    Ok(mac)
}

/// A Router Solicitation that passed RFC 4861 6.1.1 validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterSolicitRepr {
    /// The soliciting host's MAC, when it sent one.
    pub source_lladdr: Option<[u8; 6]>,
}

impl RouterSolicitRepr {
    /// Parses and validates a Router Solicitation received from `source`
    /// with IP hop limit `hop_limit` (the kernel has checked the checksum).
    pub fn parse(bytes: &[u8], source: Ipv6Addr, hop_limit: u8) -> Result<Self, WireError> {
        if hop_limit != ND_HOP_LIMIT {
            return Err(WireError::BadHopLimit(hop_limit));
        }
        if bytes.len() < RS_HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if bytes[0] != ICMPV6_ROUTER_SOLICIT {
            return Err(WireError::NotThisMessage(bytes[0]));
        }
        if bytes[1] != 0 {
            return Err(WireError::BadCode(bytes[1]));
        }
        let mut source_lladdr = None;
        for opt in OptionIter::new(&bytes[RS_HEADER_LEN..]) {
            let opt = opt?;
            if opt.kind == NDP_OPT_SOURCE_LL_ADDR {
                source_lladdr = Some(parse_lladdr(opt.data)?);
            }
        }
        if source.is_unspecified() && source_lladdr.is_some() {
            return Err(WireError::LinkLayerFromUnspecified);
        }
        Ok(RouterSolicitRepr { source_lladdr })
    }

    pub fn buffer_len(&self) -> usize {
        RS_HEADER_LEN + self.source_lladdr.map_or(0, |_| 8)
    }

    pub fn emit(&self) -> Vec<u8> {
        let mut out = vec![ICMPV6_ROUTER_SOLICIT, 0, 0, 0, 0, 0, 0, 0];
        if let Some(mac) = self.source_lladdr {
            out.extend_from_slice(&[NDP_OPT_SOURCE_LL_ADDR, 1]);
            out.extend_from_slice(&mac);
        }
        out
    }
}

#[cfg(test)]
mod tests;
