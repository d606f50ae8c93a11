//! The DHCPv4 server state machine (RFC 2131), sans IO: fed bytes and the
//! time, it returns the reply to send and queues lease events.
//!
//! It never touches a socket, a clock or a file: the shell passes `now`,
//! sends the [`Reply`], persists and publishes after each [`LeaseEvent`], and
//! calls [`Server::handle_timeout`] when [`Server::poll_timeout`] says so.
//! It is authoritative on its subnet (configurable): a client asking for an
//! address that is not ours, or not its, gets a NAK.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use dhcproto::v4::MessageType;
use tracing::{debug, debug_span, warn};

use super::config::{Dhcp4Config, LeaseTime};
use super::lease_file::{LeaseRecord, MAX_EXPIRY};
use super::leases::{ClientKey, InvariantError, Lease, LeaseState, LeaseTable};
use super::options::{NetworkOptions, ReplyHeader};
use super::pool::Pool;
use super::reply::{Destination, Reply, encode};
use super::request::{Request, sanitise_hostname};
use super::tags::Tag;
use super::warning::{Warning, Warnings};
use crate::MacAddr;
use crate::names::DhcpName;

/// How long an OFFERed address stays set aside for the client it was
/// offered to (dnsmasq holds offers about as long).
pub const OFFER_HOLD: Duration = Duration::from_secs(60);
/// dnsmasq's default `--dhcp-lease-max`.
pub const DEFAULT_LEASE_MAX: usize = 1000;

/// What happened to a bound lease; the shell rewrites the lease file and
/// republishes the names after any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseChange {
    /// A client was given an address it did not hold.
    Added,
    /// A client kept its address for longer.
    Renewed,
    Released,
    Declined,
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseEvent {
    pub change: LeaseChange,
    /// The lease as it is now (or was, when it ended).
    pub record: LeaseRecord,
}

/// Counters of what the server received and answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests received, by message type.
    pub discovers: u64,
    pub requests: u64,
    pub declines: u64,
    pub releases: u64,
    pub informs: u64,
    /// Replies decided, by message type (an ACK counts when decided, even
    /// if it then waits for the lease file).
    pub offers: u64,
    pub acks: u64,
    /// Packets that were not a usable DHCP request.
    pub malformed: u64,
    pub naks: u64,
    /// DISCOVERs that got no offer because no address was free.
    pub exhausted: u64,
}

#[derive(Debug)]
pub struct Server {
    config: Dhcp4Config,
    pool: Pool,
    leases: LeaseTable,
    options: NetworkOptions,
    /// Most leases and offers held at once (`--dhcp-lease-max`).
    lease_max: usize,
    events: VecDeque<LeaseEvent>,
    /// Conditions worth a warning, for the shell to log at a rate limit.
    warnings: Warnings,
    stats: Stats,
}

impl Server {
    /// A server for `config`, holding the `loaded` leases that are still
    /// valid at `now` and still fit the configuration.
    pub fn new(config: Dhcp4Config, now: SystemTime, loaded: Vec<LeaseRecord>) -> Server {
        let mut server = Server {
            pool: Pool::new(&config),
            options: NetworkOptions::new(&config),
            leases: LeaseTable::new(),
            config,
            lease_max: DEFAULT_LEASE_MAX,
            events: VecDeque::new(),
            warnings: Warnings::default(),
            stats: Stats::default(),
        };
        let now_secs = epoch_secs(now);
        server.leases.reserve(loaded.len());
        for r in loaded {
            if r.expires != 0 && r.expires <= now_secs {
                debug!(addr = %r.addr, "lease file: lease ended while stopped");
                continue;
            }
            let client_id = r
                .client_id
                .as_deref()
                .filter(|_| !server.config.ignore_client_id);
            let key = ClientKey::new(client_id, r.mac);
            let why_not = if r.expires > MAX_EXPIRY {
                Some("its expiry is past any time the server can hold")
            } else if !server.pool.allows(r.addr, &r.mac) {
                Some("outside the range, or reserved for another host")
            } else if server.leases.by_addr(r.addr).is_some() {
                Some("address already leased to another client")
            } else if server.leases.by_client(&key).is_some() {
                Some("client already holds another lease")
            } else {
                None
            };
            if let Some(why) = why_not {
                warn!(addr = %r.addr, mac = %MacAddr(r.mac), "lease file: dropping lease: {why}");
                continue;
            }
            server.leases.insert(Lease {
                addr: r.addr,
                key,
                mac: r.mac,
                hostname: r.hostname.as_deref().and_then(sanitise_hostname),
                expires: (r.expires != 0)
                    .then(|| SystemTime::UNIX_EPOCH + Duration::from_secs(r.expires)),
                state: LeaseState::Bound,
                seq: 0,
            });
        }
        server
    }

    /// Caps the leases and offers held at once (dnsmasq's `--dhcp-lease-max`).
    pub fn with_lease_max(mut self, lease_max: usize) -> Server {
        self.lease_max = lease_max;
        self
    }

    pub fn config(&self) -> &Dhcp4Config {
        &self.config
    }

    /// Handles one received packet.
    pub fn handle(&mut self, now: SystemTime, packet: &[u8]) -> Option<Reply> {
        let mut req = match Request::parse(packet) {
            Ok(req) => req,
            Err(why) => {
                self.stats.malformed += 1;
                debug!(len = packet.len(), "dropping packet: {why}");
                return None;
            }
        };
        let span =
            debug_span!("dhcp4", xid = %format_args!("{:#010x}", req.xid), chaddr = %req.mac());
        let _enter = span.enter();
        if self.config.ignore_client_id {
            req.key = ClientKey::Mac(req.chaddr);
        }
        if !req.giaddr.is_unspecified() && !self.config.subnet.contains(req.giaddr) {
            debug!(giaddr = %req.giaddr, "relayed from a subnet we do not serve; dropped");
            return None;
        }
        debug!(msg_type = ?req.msg_type, "received");
        let reply = match req.msg_type {
            MessageType::Discover => {
                self.stats.discovers += 1;
                self.discover(now, &req)
            }
            MessageType::Request => {
                self.stats.requests += 1;
                self.request(now, &req)
            }
            MessageType::Decline => {
                self.stats.declines += 1;
                self.decline(now, &req)
            }
            MessageType::Release => {
                self.stats.releases += 1;
                self.release(&req)
            }
            MessageType::Inform => {
                self.stats.informs += 1;
                Some(self.inform(&req))
            }
            _ => None,
        };
        if let Some(r) = &reply {
            match r.msg_type {
                MessageType::Offer => self.stats.offers += 1,
                MessageType::Ack => self.stats.acks += 1,
                _ => {}
            }
            debug!(msg_type = ?r.msg_type, yiaddr = %r.yiaddr, dest = ?r.dest, "reply");
        }
        reply
    }

    /// The next lease event for the shell to persist and publish.
    pub fn poll_event(&mut self) -> Option<LeaseEvent> {
        self.events.pop_front()
    }

    /// The next condition worth a warning. The core does not log these
    /// itself (only at debug level, per packet): a client can repeat them
    /// as fast as it sends, so the shell logs them at a rate limit.
    pub fn poll_warning(&mut self) -> Option<Warning> {
        self.warnings.pop()
    }

    /// When [`Server::handle_timeout`] next has work: the earliest lease,
    /// offer or decline hold to end.
    pub fn poll_timeout(&self) -> Option<SystemTime> {
        self.leases.next_expiry()
    }

    /// Ends every lease, offer and decline hold due at `now`.
    pub fn handle_timeout(&mut self, now: SystemTime) {
        for lease in self.leases.expire(now) {
            if lease.state == LeaseState::Bound {
                debug!(addr = %lease.addr, mac = %MacAddr(lease.mac), "lease expired");
                self.push_event(LeaseChange::Expired, &lease);
            }
        }
    }

    /// Leases and offers held.
    pub fn lease_count(&self) -> usize {
        self.leases.len()
    }

    /// Dynamic addresses that no lease, offer or decline hold takes: what
    /// a new client could still get. O(leases + declines), so the shell
    /// asks only when the table's size changed.
    pub fn free_addresses(&self) -> u64 {
        let taken = self
            .leases
            .taken()
            .filter(|a| self.pool.is_dynamic(*a))
            .count() as u64;
        self.pool.dynamic_size().saturating_sub(taken)
    }

    /// Leases and offers held plus addresses held back after a DECLINE:
    /// what [`Server::free_addresses`] depends on.
    pub fn held_count(&self) -> usize {
        self.leases.len() + self.leases.declined_count()
    }

    /// The bound leases as lease-file records, oldest first.
    pub fn records(&self) -> Vec<LeaseRecord> {
        self.leases.bound().into_iter().map(record).collect()
    }

    /// The bound leases in dnsmasq's lease-file format, in no particular
    /// order: the export other tools read. Formats straight from the
    /// table, without copying or sorting it.
    pub fn lease_file_text(&self) -> String {
        let mut out = String::with_capacity(self.leases.len() * 64);
        for l in self.leases.bound_unordered() {
            let client_id = match &l.key {
                ClientKey::ClientId(id) => Some(id.as_slice()),
                ClientKey::Mac(_) => None,
            };
            let expires = l.expires.map_or(0, |t| epoch_secs(t).max(1));
            super::lease_file::write_line(
                &mut out,
                expires,
                &l.mac,
                l.addr,
                l.hostname.as_deref(),
                client_id,
            );
        }
        out
    }

    /// The bound leases that carry a hostname, oldest first: what DNS
    /// publishes.
    pub fn names(&self) -> Vec<DhcpName> {
        self.leases
            .bound()
            .into_iter()
            .filter_map(|l| {
                Some(DhcpName {
                    hostname: l.hostname.clone()?,
                    addr: l.addr,
                    mac: l.mac,
                })
            })
            .collect()
    }

    pub fn lease_by_addr(&self, addr: Ipv4Addr) -> Option<&Lease> {
        self.leases.by_addr(addr)
    }

    pub fn lease_by_client(&self, key: &ClientKey) -> Option<&Lease> {
        self.leases.by_client(key)
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The lease table's invariants, plus: every address is one this
    /// server may give to its holder. For tests.
    pub fn check_invariants(&self) -> Result<(), InvariantError> {
        self.leases
            .check_invariants(|l| self.pool.allows(l.addr, &l.mac))
    }

    fn discover(&mut self, now: SystemTime, req: &Request) -> Option<Reply> {
        let Some(addr) = self.choose(req) else {
            self.stats.exhausted += 1;
            debug!("no address available for {}", req.mac());
            self.warnings
                .push(Warning::NoAddressAvailable { mac: req.mac() });
            return None;
        };
        let held = self.leases.by_addr(addr);
        let bound_here = held.is_some_and(|l| l.state == LeaseState::Bound && l.key == req.key);
        if !bound_here {
            // A bound lease elsewhere (its reservation moved) ends here.
            if let Some(old) = self.leases.by_client(&req.key).cloned()
                && old.state == LeaseState::Bound
                && old.addr != addr
            {
                self.push_event(LeaseChange::Released, &old);
            }
            if self.config.rapid_commit && req.rapid_commit {
                return Some(self.bind(now, req, addr));
            }
            self.take_over(addr, &req.key);
            self.leases.insert(Lease {
                addr,
                key: req.key.clone(),
                mac: req.chaddr,
                hostname: None,
                expires: Some(now + OFFER_HOLD),
                state: LeaseState::Offered,
                seq: 0,
            });
        } else if self.config.rapid_commit && req.rapid_commit {
            return Some(self.bind(now, req, addr));
        }
        Some(self.reply(req, MessageType::Offer, addr, Some(self.lease_time(req))))
    }

    /// The address to offer `req`'s client, or `None` when none is free.
    fn choose(&self, req: &Request) -> Option<Ipv4Addr> {
        if let Some(r) = self.pool.reservation(&req.chaddr) {
            return self.available_to(req, r.addr).then_some(r.addr);
        }
        if let Some(lease) = self.leases.by_client(&req.key)
            && self.pool.allows(lease.addr, &req.chaddr)
        {
            return Some(lease.addr);
        }
        if self.leases.len() >= self.lease_max {
            return None;
        }
        if let Some(want) = req.requested_addr
            && self.available_to(req, want)
        {
            return Some(want);
        }
        self.pool.pick(&req.key, &self.leases)
    }

    /// May `req`'s client have `addr` now: allowed to it, not declined, and
    /// held by no one else.
    fn available_to(&self, req: &Request, addr: Ipv4Addr) -> bool {
        self.pool.allows(addr, &req.chaddr)
            && !self.leases.is_declined(addr)
            && self.leases.by_addr(addr).is_none_or(|l| {
                l.key == req.key
                    || l.mac == req.chaddr
                        && self
                            .pool
                            .reservation(&l.mac)
                            .is_some_and(|r| r.addr == addr)
            })
    }

    fn request(&mut self, now: SystemTime, req: &Request) -> Option<Reply> {
        let addr = match req.server_id {
            Some(sid) if sid != self.config.server_addr => {
                // SELECTING, and the client chose another server.
                if let Some(l) = self.leases.by_client(&req.key)
                    && l.state == LeaseState::Offered
                {
                    let addr = l.addr;
                    self.leases.remove(addr);
                }
                debug!(server_id = %sid, "client chose another server");
                return None;
            }
            // SELECTING (server id ours) or INIT-REBOOT: option 50.
            _ => match (req.requested_addr, req.ciaddr) {
                (Some(a), _) => a,
                // RENEWING / REBINDING: ciaddr.
                (None, c) if !c.is_unspecified() => c,
                (None, _) => {
                    self.stats.malformed += 1;
                    debug!("REQUEST names no address; dropped");
                    return None;
                }
            },
        };
        let known = self.leases.by_client(&req.key).is_some();
        if let Some(why) = self.refuse(req, addr) {
            if !self.config.authoritative && !known {
                debug!(%addr, "not ours to refuse ({why}); silent");
                return None;
            }
            self.stats.naks += 1;
            debug!(%addr, "NAK: {why}");
            return Some(self.reply(req, MessageType::Nak, Ipv4Addr::UNSPECIFIED, None));
        }
        Some(self.bind(now, req, addr))
    }

    /// Binds `addr` to `req`'s client and ACKs it: a REQUEST, or a DISCOVER
    /// with rapid commit (RFC 4039), whose ACK carries option 80.
    fn bind(&mut self, now: SystemTime, req: &Request, addr: Ipv4Addr) -> Reply {
        let lease_time = self.lease_time(req);
        let previous = self.leases.by_client(&req.key).cloned();
        let renewed = previous
            .as_ref()
            .is_some_and(|p| p.addr == addr && p.state == LeaseState::Bound);
        let hostname = self
            .pool
            .reservation(&req.chaddr)
            .and_then(|r| r.hostname.clone())
            .or_else(|| req.hostname.clone())
            .or_else(|| previous.filter(|p| p.addr == addr).and_then(|p| p.hostname));
        let lease = Lease {
            addr,
            key: req.key.clone(),
            mac: req.chaddr,
            hostname,
            expires: match lease_time {
                LeaseTime::Finite(d) => Some(now + d),
                LeaseTime::Infinite => None,
            },
            state: LeaseState::Bound,
            seq: 0,
        };
        self.take_over(addr, &req.key);
        let change = if renewed {
            LeaseChange::Renewed
        } else {
            LeaseChange::Added
        };
        self.push_event(change, &lease);
        self.leases.insert(lease);
        let mut reply = self.reply(req, MessageType::Ack, addr, Some(lease_time));
        reply.needs_commit = true;
        reply
    }

    /// Why `req`'s client may not have `addr`, or `None` when it may.
    fn refuse(&self, req: &Request, addr: Ipv4Addr) -> Option<&'static str> {
        if !self.config.subnet.contains(addr) {
            return Some("not on this subnet");
        }
        if let Some(r) = self.pool.reservation(&req.chaddr)
            && r.addr != addr
        {
            return Some("this client has a reservation for another address");
        }
        if self.leases.is_declined(addr) {
            return Some("address declined recently");
        }
        if self
            .leases
            .by_client(&req.key)
            .is_some_and(|l| l.state == LeaseState::Bound && l.addr != addr)
        {
            return Some("this client holds another address");
        }
        if !self.available_to(req, addr) {
            return Some(if self.pool.allows(addr, &req.chaddr) {
                "address leased to another client"
            } else {
                "address outside the range or reserved"
            });
        }
        let holds_entry =
            self.leases.by_client(&req.key).is_some() || self.leases.by_addr(addr).is_some();
        if !holds_entry && self.leases.len() >= self.lease_max {
            return Some("lease limit reached");
        }
        None
    }

    /// A reserved address may still be filed under another key of the same
    /// MAC (the host now sends a client identifier, or stopped sending one):
    /// that lease ends so `key` can hold the address.
    fn take_over(&mut self, addr: Ipv4Addr, key: &ClientKey) {
        if self.leases.by_addr(addr).is_some_and(|l| &l.key != key)
            && let Some(old) = self.leases.remove(addr)
            && old.state == LeaseState::Bound
        {
            self.push_event(LeaseChange::Released, &old);
        }
    }

    fn decline(&mut self, now: SystemTime, req: &Request) -> Option<Reply> {
        if req.server_id.is_some_and(|s| s != self.config.server_addr) {
            return None;
        }
        let addr = req.requested_addr?;
        match self.leases.by_addr(addr) {
            Some(l) if l.key == req.key => {
                let lease = l.clone();
                debug!(%addr, mac = %req.mac(), "client declined the address (in use on the link?); holding it back");
                self.warnings.push(Warning::Declined {
                    addr,
                    mac: req.mac(),
                });
                self.leases.decline(addr, now + self.config.decline_hold);
                if lease.state == LeaseState::Bound {
                    self.push_event(LeaseChange::Declined, &lease);
                }
            }
            _ => debug!(%addr, "DECLINE for an address this client does not hold; ignored"),
        }
        None
    }

    fn release(&mut self, req: &Request) -> Option<Reply> {
        if req.server_id.is_some_and(|s| s != self.config.server_addr) {
            return None;
        }
        match self.leases.by_client(&req.key) {
            Some(l) if l.addr == req.ciaddr => {
                let addr = l.addr;
                if let Some(lease) = self.leases.remove(addr) {
                    debug!(%addr, "released");
                    if lease.state == LeaseState::Bound {
                        self.push_event(LeaseChange::Released, &lease);
                    }
                }
            }
            _ => {
                debug!(ciaddr = %req.ciaddr, "RELEASE for an address this client does not hold; ignored")
            }
        }
        None
    }

    fn inform(&mut self, req: &Request) -> Reply {
        self.reply(req, MessageType::Ack, Ipv4Addr::UNSPECIFIED, None)
    }

    fn lease_time(&self, req: &Request) -> LeaseTime {
        self.pool
            .reservation(&req.chaddr)
            .and_then(|r| r.lease_time)
            .unwrap_or(self.config.lease_time)
    }

    fn reply(
        &self,
        req: &Request,
        msg_type: MessageType,
        yiaddr: Ipv4Addr,
        lease: Option<LeaseTime>,
    ) -> Reply {
        let header = ReplyHeader {
            msg_type,
            server_id: self.config.server_addr,
            lease,
            rapid_commit: msg_type == MessageType::Ack && req.msg_type == MessageType::Discover,
        };
        let options = self
            .options
            .reply(header, req.prl.as_deref(), &self.tags(req));
        // ciaddr is echoed in ACKs only (RFC 2131 table 3).
        let ciaddr = if msg_type == MessageType::Ack {
            req.ciaddr
        } else {
            Ipv4Addr::UNSPECIFIED
        };
        Reply {
            bytes: encode(req, ciaddr, yiaddr, &options),
            dest: Destination::choose(req, msg_type, yiaddr),
            msg_type,
            yiaddr,
            needs_commit: false,
        }
    }

    /// The tags `req` carries: the range's, then its reservation's.
    fn tags(&self, req: &Request) -> Vec<Tag> {
        let mut tags = self.config.tags.clone();
        if let Some(r) = self.pool.reservation(&req.chaddr) {
            tags.extend(r.tags.iter().cloned());
        }
        tags
    }

    fn push_event(&mut self, change: LeaseChange, lease: &Lease) {
        self.events.push_back(LeaseEvent {
            change,
            record: record(lease),
        });
    }
}

fn record(lease: &Lease) -> LeaseRecord {
    LeaseRecord {
        // 0 means "never" in the file, so a finite lease is at least 1.
        expires: lease.expires.map_or(0, |t| epoch_secs(t).max(1)),
        mac: lease.mac,
        addr: lease.addr,
        hostname: lease.hostname.clone(),
        client_id: match &lease.key {
            ClientKey::ClientId(id) => Some(id.clone()),
            ClientKey::Mac(_) => None,
        },
    }
}

fn epoch_secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod loading_tests;
#[cfg(test)]
mod option_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod range_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod warning_tests;
