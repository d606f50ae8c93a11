//! The DHCPv4 server state machine (RFC 2131), sans IO: fed bytes and the
//! time, it returns the reply to send and queues lease events.
//!
//! It never touches a socket, a clock or a file: the shell passes `now`,
//! sends the [`Reply`], persists and publishes after each [`LeaseEvent`], and
//! calls [`Server::handle_timeout`] when [`Server::poll_timeout`] says so.
//! It is authoritative on its subnets (configurable): a client asking for
//! an address that is not ours, or not its, gets a NAK.
//!
//! Each request is served from the ranges of its network ([`Via`]): the
//! subnets on the interface, or the one a relay agent (giaddr) is on.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use dhcproto::v4::MessageType;
use tracing::{debug, debug_span, info, warn};

use super::config::{Dhcp4Config, Dhcp4Range, LeaseTime, Reservation};
use super::free_probes::FreeProbes;
use super::hosts::HostQuery;
use super::lease_file::{LeaseRecord, MAX_EXPIRY};
use super::leases::{ClientKey, InvariantError, Lease, LeaseState, LeaseTable};
use super::name_claims::{Decision, Holder, NameClaims, NameProbe};
use super::options::{NetworkOptions, ReplyHeader, SubnetDefaults};
use super::pool::{Pool, Via};
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
    /// What the request that bound the lease said (for `--dhcp-script`);
    /// `None` for an expiry, a release or a decline.
    pub request: Option<RequestInfo>,
}

/// What a binding request showed that the lease itself does not keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// The hostname the client sent (option 12 or 81).
    pub supplied_hostname: Option<String>,
    /// The lease's hostname before this request, when it had one.
    pub previous_hostname: Option<String>,
    /// The relay agent's address (giaddr), when relayed.
    pub relay: Option<Ipv4Addr>,
    /// Tags the client's host entry set.
    pub tags: Vec<String>,
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
    /// Who may publish which hostname.
    claims: NameClaims,
    /// Pool addresses ARP-probed free, for new clients.
    free: FreeProbes,
    stats: Stats,
}

impl Server {
    /// A server for `config`, holding the `loaded` leases that are still
    /// valid at `now` and still fit the configuration.
    pub fn new(config: Dhcp4Config, now: SystemTime, loaded: Vec<LeaseRecord>) -> Server {
        let claims = NameClaims::new(
            config
                .reservations
                .iter()
                .filter_map(|r| r.hostname.as_deref()),
        );
        let mut server = Server {
            pool: Pool::new(&config),
            options: NetworkOptions::new(&config),
            leases: LeaseTable::new(),
            config,
            lease_max: DEFAULT_LEASE_MAX,
            events: VecDeque::new(),
            warnings: Warnings::default(),
            claims,
            free: FreeProbes::default(),
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
            let hostname = r.hostname.as_deref().and_then(sanitise_hostname);
            let query = HostQuery {
                mac: &r.mac,
                client_id,
                hostname: hostname.as_deref(),
            };
            let why_not = if r.expires > MAX_EXPIRY {
                Some("its expiry is past any time the server can hold")
            } else if !server.pool.allows(r.addr, &query) {
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
                hostname,
                expires: (r.expires != 0)
                    .then(|| SystemTime::UNIX_EPOCH + Duration::from_secs(r.expires)),
                state: LeaseState::Bound,
                seq: 0,
            });
        }
        for l in server.leases.bound_unordered() {
            if let Some(h) = &l.hostname {
                server.claims.took(h, l.addr);
            }
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

    /// Replaces the host entries (a hosts file changed). Leases stay as
    /// they are: a client whose entry moved, or that holds an address now
    /// reserved for another, is told at its next request (a NAK, then the
    /// address its entry gives).
    pub fn set_reservations(&mut self, reservations: Vec<Reservation>) {
        self.config.reservations = reservations;
        self.pool = Pool::new(&self.config);
        self.claims.set_reserved(
            self.config
                .reservations
                .iter()
                .filter_map(|r| r.hostname.as_deref()),
        );
    }

    /// Replaces the `--dhcp-option` set (an options file changed); the
    /// next reply carries the new options.
    pub fn set_options(&mut self, options: Vec<super::Dhcp4Option>) {
        self.config.options = options;
        self.options = NetworkOptions::new(&self.config);
    }

    /// The host entries in force.
    pub fn reservations(&self) -> &[Reservation] {
        self.pool.hosts()
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
            // Nor does an identifier pick a host entry.
            req.client_id = None;
            req.key = ClientKey::Mac(req.chaddr);
        }
        let Some(via) = self.via(&req) else {
            debug!(giaddr = %req.giaddr, "relayed from a subnet no range serves; dropped");
            self.warnings.push(Warning::NoRange {
                relay: req.giaddr,
                mac: req.mac(),
            });
            return None;
        };
        debug!(msg_type = ?req.msg_type, "received");
        if let Some(host) = self.pool.reservation(&req.host_query()) {
            if host.ignore {
                debug!("a --dhcp-host entry says ignore this client");
                return None;
            }
            if host.ignore_client_id {
                req.client_id = None;
                req.key = ClientKey::Mac(req.chaddr);
            }
        }
        let reply = match req.msg_type {
            MessageType::Discover => {
                self.stats.discovers += 1;
                self.discover(now, &req, via)
            }
            MessageType::Request => {
                self.stats.requests += 1;
                self.request(now, &req, via)
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
                Some(self.inform(&req, via))
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

    /// The next holder of a name another client asked for, to ARP-probe;
    /// report with [`Server::name_probe_result`].
    pub fn poll_name_probe(&mut self, now: SystemTime) -> Option<NameProbe> {
        loop {
            let probe = self.claims.poll_probe(now)?;
            let waiting = self.claims.claimant(&probe.name).is_some_and(|k| {
                self.leases
                    .by_client(k)
                    .is_some_and(|l| l.state == LeaseState::Bound)
            });
            if waiting {
                return Some(probe);
            }
            self.claims.cancel(&probe.name);
        }
    }

    /// Names no client gets (hosts files, local records).
    pub fn set_protected_names(&mut self, names: impl IntoIterator<Item = String>) {
        self.claims.set_protected(names);
    }

    /// The shell probed `probe`'s holder. Silent: the name moves to the
    /// client that asked for it, if both leases still stand. Returns whether
    /// the lease table changed (its events are queued, to commit and to
    /// republish names).
    pub fn name_probe_result(
        &mut self,
        now: SystemTime,
        probe: &NameProbe,
        answered: bool,
    ) -> bool {
        let Some(claimant) = self.claims.probed(probe, answered, now) else {
            return false;
        };
        let holder = self.leases.by_addr(probe.holder_addr).cloned().filter(|l| {
            l.state == LeaseState::Bound
                && l.mac == probe.holder_mac
                && l.hostname
                    .as_deref()
                    .is_some_and(|h| h.eq_ignore_ascii_case(&probe.name))
        });
        let Some(mut new) = self
            .leases
            .by_client(&claimant)
            .cloned()
            .filter(|l| l.state == LeaseState::Bound && l.expires.is_none_or(|t| t > now))
        else {
            return false;
        };
        if let Some(mut old) = holder {
            info!(name = %probe.name, from = %MacAddr(old.mac), to = %MacAddr(new.mac), "name moves: its holder no longer answers ARP");
            old.hostname = None;
            self.push_event(LeaseChange::Renewed, &old);
            self.leases.insert(old);
        }
        new.hostname = Some(probe.name.clone());
        self.push_event(LeaseChange::Renewed, &new);
        self.claims.took(&probe.name, new.addr);
        self.leases.insert(new);
        true
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

    /// How many addresses the ranges can hand to any client: the dynamic
    /// pools without our own, network, broadcast and reserved addresses.
    pub fn pool_size(&self) -> u64 {
        self.pool.dynamic_size()
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
        let mut out = String::new();
        self.write_lease_file_text(&mut out);
        out
    }

    /// [`Server::lease_file_text`], appended to `out` (a buffer reused
    /// from one export to the next).
    pub fn write_lease_file_text(&self, out: &mut String) {
        out.reserve(self.leases.len() * 64);
        for l in self.leases.bound_unordered() {
            let client_id = match &l.key {
                ClientKey::ClientId(id) => Some(id.as_slice()),
                ClientKey::Mac(_) => None,
            };
            let expires = l.expires.map_or(0, |t| epoch_secs(t).max(1));
            super::lease_file::write_line(
                out,
                expires,
                &l.mac,
                l.addr,
                l.hostname.as_deref(),
                client_id,
            );
        }
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
            .check_invariants(|l| self.pool.allows(l.addr, &l.host_query()))
    }

    /// The network `req` comes from: a relay agent's subnet, the subnet of
    /// a relayed client that renews straight with us (RENEWING is unicast,
    /// RFC 2131 §4.4.5), else the interface's. `None` when no range serves
    /// it.
    fn via(&self, req: &Request) -> Option<Via> {
        let via = if !req.giaddr.is_unspecified() {
            Via::Subnet(req.giaddr)
        } else if !req.ciaddr.is_unspecified()
            && !self.pool.on_network(req.ciaddr, Via::Link)
            && self.pool.serves(Via::Subnet(req.ciaddr))
        {
            Via::Subnet(req.ciaddr)
        } else {
            Via::Link
        };
        self.pool.serves(via).then_some(via)
    }

    fn discover(&mut self, now: SystemTime, req: &Request, via: Via) -> Option<Reply> {
        let found = self
            .choose(req, via)
            .or_else(|| self.verified_free(now, req, via));
        let Some(addr) = found else {
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
                return Some(self.bind(now, req, addr, via));
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
            return Some(self.bind(now, req, addr, via));
        }
        let lease = self.lease_time(req, addr);
        Some(self.reply(req, via, MessageType::Offer, addr, Some(lease)))
    }

    /// The address to offer `req`'s client on the network `via`, or `None`
    /// when none is free. A reservation on another network is passed over,
    /// as dnsmasq does: the client gets a dynamic address here.
    fn choose(&self, req: &Request, via: Via) -> Option<Ipv4Addr> {
        if let Some(addr) = self.pool.reserved_addr(&req.host_query())
            && self.pool.on_network(addr, via)
        {
            return self.available_to(req, addr).then_some(addr);
        }
        if let Some(lease) = self.leases.by_client(&req.key)
            && self.pool.on_network(lease.addr, via)
            && self.pool.allows(lease.addr, &req.host_query())
        {
            return Some(lease.addr);
        }
        if self.leases.len() >= self.lease_max {
            return None;
        }
        if let Some(want) = req.requested_addr
            && self.pool.on_network(want, via)
            && self.available_to(req, want)
        {
            return Some(want);
        }
        if via == Via::Link && !self.free.fresh_is_empty() {
            // A new client: one of the addresses probed free.
            return None;
        }
        self.pool.pick(&req.key, &self.leases, via)
    }

    /// For a new client when addresses were probed free: the oldest one
    /// still available, else the pool's own pick.
    fn verified_free(&mut self, now: SystemTime, req: &Request, via: Via) -> Option<Ipv4Addr> {
        if via != Via::Link
            || self.leases.len() >= self.lease_max
            || self
                .pool
                .reserved_addr(&req.host_query())
                .is_some_and(|a| self.pool.on_network(a, via))
            || self
                .leases
                .by_client(&req.key)
                .is_some_and(|l| self.pool.on_network(l.addr, via))
        {
            return None;
        }
        let fresh = self.free.fresh(now);
        match fresh.into_iter().find(|a| self.available_to(req, *a)) {
            Some(a) => {
                self.free.remove(a);
                Some(a)
            }
            None => self.pool.pick(&req.key, &self.leases, via),
        }
    }

    /// The next pool address to ARP-probe, so that new clients get one
    /// known free at once; report with [`Server::free_probe_result`].
    pub fn poll_free_probe(&mut self, now: SystemTime) -> Option<Ipv4Addr> {
        let (pool, leases) = (&self.pool, &self.leases);
        self.free.next_candidate(now, |k| {
            pool.pick(k, leases, Via::Link)
                .filter(|a| !leases.is_declined(*a))
        })
    }

    /// `addr`'s probe could not be sent: it is neither free nor in use.
    pub fn free_probe_dropped(&mut self, addr: Ipv4Addr) {
        self.free.dropped(addr);
    }

    /// `addr`'s probe ended: silent, it joins the addresses ready for new
    /// clients; answered (at `answered_by`), it is held back like a
    /// declined address, with a warning.
    pub fn free_probe_result(
        &mut self,
        now: SystemTime,
        addr: Ipv4Addr,
        answered_by: Option<[u8; 6]>,
    ) {
        self.free.probed(addr, answered_by.is_none(), now);
        if let Some(mac) = answered_by
            && self.leases.by_addr(addr).is_none()
        {
            self.leases.decline(addr, now + self.config.decline_hold);
            self.warnings.push(Warning::InUse {
                addr,
                mac: MacAddr(mac),
            });
        }
    }

    /// May `req`'s client have `addr` now: allowed to it, not declined, and
    /// held by no one else.
    fn available_to(&self, req: &Request, addr: Ipv4Addr) -> bool {
        self.pool.allows(addr, &req.host_query())
            && !self.leases.is_declined(addr)
            && self.leases.by_addr(addr).is_none_or(|l| {
                l.key == req.key
                    || l.mac == req.chaddr && self.pool.reserved_addr(&l.host_query()) == Some(addr)
            })
    }

    fn request(&mut self, now: SystemTime, req: &Request, via: Via) -> Option<Reply> {
        let addr = match req.server_id {
            Some(sid) if !self.pool.is_own(sid) => {
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
        if let Some(why) = self.refuse(req, addr, via) {
            if !self.config.authoritative && !known {
                debug!(%addr, "not ours to refuse ({why}); silent");
                return None;
            }
            self.stats.naks += 1;
            debug!(%addr, "NAK: {why}");
            let nak = MessageType::Nak;
            return Some(self.reply(req, via, nak, Ipv4Addr::UNSPECIFIED, None));
        }
        Some(self.bind(now, req, addr, via))
    }

    /// Binds `addr` to `req`'s client and ACKs it: a REQUEST, or a DISCOVER
    /// with rapid commit (RFC 4039), whose ACK carries option 80.
    fn bind(&mut self, now: SystemTime, req: &Request, addr: Ipv4Addr, via: Via) -> Reply {
        let lease_time = self.lease_time(req, addr);
        let previous = self.leases.by_client(&req.key).cloned();
        let renewed = previous
            .as_ref()
            .is_some_and(|p| p.addr == addr && p.state == LeaseState::Bound);
        let info = RequestInfo {
            supplied_hostname: req.hostname.clone(),
            previous_hostname: previous
                .as_ref()
                .filter(|p| p.addr == addr && p.state == LeaseState::Bound)
                .and_then(|p| p.hostname.clone()),
            relay: (!req.giaddr.is_unspecified()).then_some(req.giaddr),
            tags: self
                .pool
                .reservation(&req.host_query())
                .map(|r| r.tags.iter().map(|t| t.0.clone()).collect())
                .unwrap_or_default(),
        };
        let hostname = match self
            .pool
            .reservation(&req.host_query())
            .and_then(|r| r.hostname.clone())
        {
            Some(reserved) => Some(reserved),
            None => req
                .hostname
                .clone()
                .or_else(|| previous.filter(|p| p.addr == addr).and_then(|p| p.hostname))
                .filter(|name| self.may_use_name(name, &req.key, req.chaddr, now)),
        };
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
        if let Some(name) = &lease.hostname {
            self.claims.took(name, addr);
        }
        self.events.push_back(LeaseEvent {
            change,
            record: record(&lease),
            request: Some(info),
        });
        self.leases.insert(lease);
        let mut reply = self.reply(req, via, MessageType::Ack, addr, Some(lease_time));
        reply.needs_commit = true;
        reply
    }

    /// Why `req`'s client may not have `addr`, or `None` when it may.
    fn refuse(&self, req: &Request, addr: Ipv4Addr, via: Via) -> Option<&'static str> {
        if !self.pool.on_network(addr, via) {
            return Some("not on the client's subnet");
        }
        if let Some(r) = self.pool.reserved_addr(&req.host_query())
            && r != addr
            && self.pool.on_network(r, via)
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
            return Some(if self.pool.allows(addr, &req.host_query()) {
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
        if req.server_id.is_some_and(|s| !self.pool.is_own(s)) {
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
        if req.server_id.is_some_and(|s| !self.pool.is_own(s)) {
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

    fn inform(&mut self, req: &Request, via: Via) -> Reply {
        self.reply(req, via, MessageType::Ack, Ipv4Addr::UNSPECIFIED, None)
    }

    /// The lease time of `addr` for `req`'s client: its host entry's, else
    /// the range's.
    fn lease_time(&self, req: &Request, addr: Ipv4Addr) -> LeaseTime {
        self.pool
            .reservation(&req.host_query())
            .and_then(|r| r.lease_time)
            .or_else(|| self.pool.range_of(addr).map(|r| r.lease_time))
            .unwrap_or(LeaseTime::DEFAULT)
    }

    /// The range a reply about `addr` (or, with none, about the client's
    /// own address or network) speaks for.
    fn range_for(&self, req: &Request, via: Via, addr: Ipv4Addr) -> Option<&Dhcp4Range> {
        [addr, req.ciaddr]
            .into_iter()
            .filter(|a| !a.is_unspecified() && self.pool.on_network(*a, via))
            .find_map(|a| self.pool.range_of(a))
            .or_else(|| self.pool.first_range(via))
    }

    fn reply(
        &self,
        req: &Request,
        via: Via,
        msg_type: MessageType,
        yiaddr: Ipv4Addr,
        lease: Option<LeaseTime>,
    ) -> Reply {
        let range = self.range_for(req, via, yiaddr);
        let header = ReplyHeader {
            msg_type,
            server_id: range.map_or(self.config.server_addr, |r| {
                r.server_id(self.config.server_addr)
            }),
            lease,
            rapid_commit: msg_type == MessageType::Ack && req.msg_type == MessageType::Discover,
            subnet: range.map(|r| SubnetDefaults {
                subnet: r.subnet,
                // A relayed subnet's router is the relay, as from dnsmasq.
                router: r
                    .local
                    .or((!req.giaddr.is_unspecified()).then_some(req.giaddr)),
            }),
        };
        let options = self
            .options
            .reply(header, req.prl.as_deref(), &self.tags(req, range));
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

    /// Whether the client may publish `name`: see [`super::name_claims`].
    fn may_use_name(&mut self, name: &str, key: &ClientKey, mac: [u8; 6], now: SystemTime) -> bool {
        let holder = self
            .claims
            .recorded_holder(name)
            .and_then(|a| self.leases.by_addr(a))
            .filter(|l| {
                l.state == LeaseState::Bound
                    && l.hostname
                        .as_deref()
                        .is_some_and(|h| h.eq_ignore_ascii_case(name))
                    && l.expires.is_none_or(|t| t > now)
            })
            .map(|l| Holder {
                key: l.key.clone(),
                addr: l.addr,
                mac: l.mac,
            });
        self.claims.decide(name, key, mac, holder) == Decision::Grant
    }

    /// The tags `req` carries: its range's, then its reservation's.
    fn tags(&self, req: &Request, range: Option<&Dhcp4Range>) -> Vec<Tag> {
        let mut tags = range.map(|r| r.tags.clone()).unwrap_or_default();
        if let Some(r) = self.pool.reservation(&req.host_query()) {
            tags.extend(r.tags.iter().cloned());
        }
        tags
    }

    fn push_event(&mut self, change: LeaseChange, lease: &Lease) {
        self.events.push_back(LeaseEvent {
            change,
            record: record(lease),
            request: None,
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
mod free_probe_tests;
#[cfg(test)]
mod host_tests;
#[cfg(test)]
mod loading_tests;
#[cfg(test)]
mod name_tests;
#[cfg(test)]
mod option_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod range_tests;
#[cfg(test)]
mod relay_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod warning_tests;
