//! The stateless DHCPv6 server core: reads a client message ([`super::wire`],
//! bounds-checked), decides, and encodes the reply with dhcproto. No socket,
//! clock or randomness inside.

use std::net::Ipv6Addr;

use dhcproto::v6::{DhcpOption, Message, MessageType, Status, StatusCode};
use dhcproto::{Encodable, Name};
use tracing::debug;

use super::wire::{self, ClientMessage};

/// RFC 8415 21.23: the default Information Refresh Time, one day.
pub const IRT_DEFAULT: u32 = 86_400;
/// RFC 8415 21.23: the shortest Information Refresh Time a client accepts.
pub const IRT_MINIMUM: u32 = 600;
/// DUID-LL (RFC 8415 11.4) type and hardware type Ethernet.
const DUID_LL: u16 = 3;
const HTYPE_ETHERNET: u16 = 1;

/// What the server hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dhcp6Config {
    /// The server's DUID (RFC 8415 11): see [`Dhcp6Config::duid_ll`].
    pub server_duid: Vec<u8>,
    /// Option 23 (RFC 3646): the DNS servers; empty omits it.
    pub dns_servers: Vec<Ipv6Addr>,
    /// Option 24 (RFC 3646): the search list; empty omits it.
    pub search_domains: Vec<String>,
    /// Option 32 (RFC 8415 21.23): how long clients keep this information.
    pub information_refresh_time: u32,
}

impl Dhcp6Config {
    /// A DUID-LL from the interface's MAC: stable across restarts without a
    /// state file, which a stateless server has no need for otherwise.
    pub fn duid_ll(mac: [u8; 6]) -> Vec<u8> {
        let mut d = Vec::with_capacity(10);
        d.extend_from_slice(&DUID_LL.to_be_bytes());
        d.extend_from_slice(&HTYPE_ETHERNET.to_be_bytes());
        d.extend_from_slice(&mac);
        d
    }
}

/// Counters of what the server did, for logs and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Dhcp6Stats {
    pub replies: u64,
    pub advertises: u64,
    /// Undecodable or invalid messages (RFC 8415 16: discarded).
    pub malformed: u64,
    /// Valid messages a stateless server does not answer, or addressed to
    /// another server.
    pub ignored: u64,
}

/// The server: answers Information-Request and Solicit.
#[derive(Debug)]
pub struct Dhcp6Server {
    config: Dhcp6Config,
    /// Option 24, encoded once.
    search: Vec<Name>,
    pub stats: Dhcp6Stats,
}

#[derive(Debug, thiserror::Error)]
#[error("search domain {domain:?} is not a valid DNS name: {reason}")]
pub struct BadSearchDomain {
    pub domain: String,
    pub reason: String,
}

impl Dhcp6Server {
    pub fn new(config: Dhcp6Config) -> Result<Self, BadSearchDomain> {
        let search = config
            .search_domains
            .iter()
            .map(|d| {
                Name::from_ascii(format!("{}.", d.trim_end_matches('.'))).map_err(|e| {
                    BadSearchDomain {
                        domain: d.clone(),
                        reason: e.to_string(),
                    }
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Dhcp6Server {
            config,
            search,
            stats: Dhcp6Stats::default(),
        })
    }

    /// Handles one datagram from a client; returns the reply to send back
    /// to the client's address, port 546.
    pub fn handle(&mut self, datagram: &[u8]) -> Option<Vec<u8>> {
        let msg = match ClientMessage::parse(datagram) {
            Ok(m) => m,
            Err(e) => {
                self.stats.malformed += 1;
                debug!(
                    malformed = self.stats.malformed,
                    "dropping undecodable DHCPv6 message: {e}"
                );
                return None;
            }
        };
        let xid = msg.xid_num();
        let reply = match msg.msg_type {
            wire::INFORMATION_REQUEST => self.information_request(&msg),
            wire::SOLICIT => self.solicit(&msg),
            other => {
                self.stats.ignored += 1;
                debug!(
                    xid,
                    msg_type = other,
                    "ignoring DHCPv6 message: this server is stateless"
                );
                return None;
            }
        }?;
        match reply.to_vec() {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                debug!(xid, "could not encode the DHCPv6 reply: {e}");
                None
            }
        }
    }

    /// RFC 8415 16.12 validation, then 18.3.6: a Reply with the
    /// configuration.
    fn information_request(&mut self, msg: &ClientMessage<'_>) -> Option<Message> {
        if !self.for_us(msg) {
            return None;
        }
        if msg.has(wire::OPTION_IA_NA) || msg.has(wire::OPTION_IA_TA) || msg.has(wire::OPTION_IA_PD)
        {
            return self.invalid(msg, "Information-Request carries an IA option");
        }
        let mut reply = Message::new_with_id(MessageType::Reply, msg.xid);
        let out = reply.opts_mut();
        out.insert(DhcpOption::ServerId(self.config.server_duid.clone()));
        if let Some(id) = msg.option(wire::OPTION_CLIENTID) {
            out.insert(DhcpOption::ClientId(id.to_vec()));
        }
        if !self.config.dns_servers.is_empty() {
            out.insert(DhcpOption::DomainNameServers(
                self.config.dns_servers.clone(),
            ));
        }
        if !self.search.is_empty() {
            out.insert(DhcpOption::DomainSearchList(self.search.clone()));
        }
        out.insert(DhcpOption::InformationRefreshTime(
            self.config.information_refresh_time.max(IRT_MINIMUM),
        ));
        self.stats.replies += 1;
        debug!(xid = msg.xid_num(), "DHCPv6 Information-Request answered");
        Some(reply)
    }

    /// RFC 8415 16.2 validation, then 18.3.9: no addresses will ever be
    /// assigned, so the Advertise carries only NoAddrsAvail, the server and
    /// the client identifiers.
    fn solicit(&mut self, msg: &ClientMessage<'_>) -> Option<Message> {
        let Some(client) = msg.option(wire::OPTION_CLIENTID) else {
            return self.invalid(msg, "Solicit without Client Identifier");
        };
        if msg.has(wire::OPTION_SERVERID) {
            return self.invalid(msg, "Solicit with a Server Identifier");
        }
        let mut adv = Message::new_with_id(MessageType::Advertise, msg.xid);
        let out = adv.opts_mut();
        out.insert(DhcpOption::ServerId(self.config.server_duid.clone()));
        out.insert(DhcpOption::ClientId(client.to_vec()));
        out.insert(DhcpOption::StatusCode(StatusCode {
            status: Status::NoAddrsAvail,
            msg: "stateless DHCPv6 only: configure addresses by SLAAC".into(),
        }));
        self.stats.advertises += 1;
        debug!(
            xid = msg.xid_num(),
            "DHCPv6 Solicit answered with NoAddrsAvail"
        );
        Some(adv)
    }

    /// A Server Identifier, if present, must be ours (RFC 8415 16.12).
    fn for_us(&mut self, msg: &ClientMessage<'_>) -> bool {
        match msg.option(wire::OPTION_SERVERID) {
            Some(id) if id != self.config.server_duid.as_slice() => {
                self.stats.ignored += 1;
                debug!("ignoring DHCPv6 message for another server");
                false
            }
            _ => true,
        }
    }

    fn invalid(&mut self, msg: &ClientMessage<'_>, why: &str) -> Option<Message> {
        self.stats.malformed += 1;
        debug!(
            xid = msg.xid_num(),
            malformed = self.stats.malformed,
            "dropping DHCPv6 message: {why}"
        );
        None
    }
}

#[cfg(test)]
mod tests;
