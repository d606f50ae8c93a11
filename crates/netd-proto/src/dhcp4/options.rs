//! The options a reply carries, and in which order.
//!
//! First what the message needs (type, server identifier, lease time, T1,
//! T2), then the configured network options the client asked for, in the
//! order of its parameter request list (RFC 2132 §9.8). The subnet mask is
//! always sent (RFC 2131 §4.3.1 recommends it); a client that sends no
//! request list gets every configured option.

use std::str::FromStr;

use dhcproto::Name;
use dhcproto::v4::{DhcpOption, MessageType};

use super::config::{Dhcp4Config, LeaseTime};

/// RFC 2132 option codes of the network options the server may send.
pub(crate) const SUBNET_MASK: u8 = 1;
pub(crate) const ROUTER: u8 = 3;
pub(crate) const DOMAIN_NAME_SERVER: u8 = 6;
pub(crate) const DOMAIN_NAME: u8 = 15;
pub(crate) const INTERFACE_MTU: u8 = 26;
pub(crate) const BROADCAST_ADDRESS: u8 = 28;
pub(crate) const DOMAIN_SEARCH: u8 = 119;

/// The configured network options, built once.
#[derive(Debug, Clone)]
pub(crate) struct NetworkOptions {
    /// (code, option), in code order: the order used without a request list.
    options: Vec<(u8, DhcpOption)>,
}

impl NetworkOptions {
    pub(crate) fn new(config: &Dhcp4Config) -> NetworkOptions {
        let mut options = vec![(SUBNET_MASK, DhcpOption::SubnetMask(config.subnet.mask()))];
        if let Some(router) = config.router {
            options.push((ROUTER, DhcpOption::Router(vec![router])));
        }
        if !config.dns_servers.is_empty() {
            options.push((
                DOMAIN_NAME_SERVER,
                DhcpOption::DomainNameServer(config.dns_servers.clone()),
            ));
        }
        if let Some(domain) = config.domain.as_deref().map(|d| d.trim_end_matches('.'))
            && !domain.is_empty()
        {
            options.push((DOMAIN_NAME, DhcpOption::DomainName(domain.to_owned())));
        }
        if let Some(mtu) = config.mtu {
            options.push((INTERFACE_MTU, DhcpOption::InterfaceMtu(mtu)));
        }
        options.push((
            BROADCAST_ADDRESS,
            DhcpOption::BroadcastAddr(config.subnet.broadcast()),
        ));
        if let Some(domain) = config.domain.as_deref().map(|d| d.trim_end_matches('.')) {
            // A domain the binary accepted is a valid name; if not, the
            // search list is left out rather than sent wrong.
            if let Ok(name) = Name::from_str(&format!("{domain}."))
                && !domain.is_empty()
            {
                options.push((DOMAIN_SEARCH, DhcpOption::DomainSearch(vec![name])));
            }
        }
        NetworkOptions { options }
    }

    /// The network options for a client with this parameter request list.
    fn select(&self, prl: Option<&[u8]>, out: &mut Vec<DhcpOption>) {
        match prl {
            None => out.extend(self.options.iter().map(|(_, o)| o.clone())),
            Some(prl) => {
                let mut sent_mask = false;
                let mut sent = [false; 256];
                for &code in prl {
                    if sent[usize::from(code)] {
                        continue;
                    }
                    sent[usize::from(code)] = true;
                    if let Some((_, opt)) = self.options.iter().find(|(c, _)| *c == code) {
                        sent_mask |= code == SUBNET_MASK;
                        out.push(opt.clone());
                    }
                }
                if !sent_mask {
                    out.push(self.options[0].1.clone());
                }
            }
        }
    }

    /// Every option of a reply, in order.
    pub(crate) fn reply(
        &self,
        msg_type: MessageType,
        server_id: std::net::Ipv4Addr,
        lease: Option<LeaseTime>,
        prl: Option<&[u8]>,
    ) -> Vec<DhcpOption> {
        let mut out = Vec::with_capacity(12);
        out.push(DhcpOption::MessageType(msg_type));
        out.push(DhcpOption::ServerIdentifier(server_id));
        if msg_type == MessageType::Nak {
            return out;
        }
        match lease {
            Some(LeaseTime::Finite(d)) => {
                let secs = u32::try_from(d.as_secs()).unwrap_or(u32::MAX - 1);
                out.push(DhcpOption::AddressLeaseTime(secs));
                out.push(DhcpOption::Renewal(secs / 2));
                out.push(DhcpOption::Rebinding((u64::from(secs) * 7 / 8) as u32));
            }
            Some(LeaseTime::Infinite) => out.push(DhcpOption::AddressLeaseTime(u32::MAX)),
            None => {}
        }
        self.select(prl, &mut out);
        out
    }
}
