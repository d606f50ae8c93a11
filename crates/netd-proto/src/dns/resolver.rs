//! The decision core: one query in (bytes, source, time), one decision out.
//!
//! In order: malformed → FORMERR/NOTIMP (or dropped); a source outside the
//! bridge's subnets and loopback → REFUSED; local names (DHCP leases,
//! hosts files, `--address`, names under `--domain`) → answered here;
//! `--server=/domain/` routes; `domain-needed` and `bogus-priv` → NXDOMAIN;
//! the cache; else [`Decision::Forward`]. The caller sends the forwarded
//! query and hands the upstream's reply to [`Resolver::complete`].
//!
//! No socket, clock or random source in here; a cache hit writes into the
//! caller's buffer and allocates nothing.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use super::answer::{self, Prepared};
use super::cache::{Cache, CacheCounters, Inserted};
use super::chaos::{self, CLASS_CH};
use super::config::{AddressAnswer, DnsConfig, RouteTarget, in_domain};
use super::hosts::Hosts;
use super::local;
use super::query::{Query, QueryError};
use super::records::{self, LocalRecords};
use super::upstream::UpstreamReport;
use super::wire::{self, Edns, HEADER_LEN, flags, rcode, rtype};
use crate::names::LocalNames;

/// The largest DNS message (TCP's 16-bit length).
pub const MAX_TCP_MESSAGE: usize = 65535;

/// How the client reached us, which bounds the reply size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// What to do with a query.
#[derive(Debug)]
pub enum Decision {
    /// The reply is in the output buffer.
    Reply,
    /// Ask upstream; then call [`Resolver::complete`].
    Forward(Box<Forward>),
    /// Send nothing.
    Drop,
}

/// A query to be forwarded, owning what the reply needs.
#[derive(Debug, Clone)]
pub struct Forward {
    pub query: Query,
    /// The client's header and question.
    pub question: Vec<u8>,
    /// Upstreams for a `--server=/domain/` route; `None`: the default ones.
    pub servers: Option<Vec<SocketAddr>>,
    pub transport: Transport,
}

impl Forward {
    /// Writes to `out` the query to send upstream with `id`: the client's
    /// question, RD and CD as the client set them, EDNS0 with our payload
    /// size and the client's DO bit.
    pub fn upstream_query(&self, id: u16, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&id.to_be_bytes());
        let fl = self.query.flags & (flags::RD | flags::CD);
        out.extend_from_slice(&fl.to_be_bytes());
        out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 1]);
        out.extend_from_slice(&self.question[HEADER_LEN..]);
        wire::push_opt(out, self.query.dnssec_ok());
    }

    /// Whether `reply` answers the query sent with `id`: a response, same
    /// ID, the same single question (name compared case-insensitively).
    pub fn matches(&self, id: u16, reply: &[u8]) -> bool {
        let Some(fl) = wire::u16_at(reply, 2) else {
            return false;
        };
        if wire::u16_at(reply, 0) != Some(id)
            || fl & flags::QR == 0
            || fl & flags::OPCODE_MASK != 0
            || wire::u16_at(reply, 4) != Some(1)
            || !wire::names_equal(reply, HEADER_LEN, &self.question, HEADER_LEN)
        {
            return false;
        }
        let Some(after) = wire::skip_name(reply, HEADER_LEN) else {
            return false;
        };
        wire::u16_at(reply, after) == Some(self.query.qtype)
            && wire::u16_at(reply, after + 2) == Some(self.query.qclass)
    }

    fn limit(&self) -> usize {
        limit(&self.query, self.transport)
    }
}

fn limit(query: &Query, transport: Transport) -> usize {
    match transport {
        Transport::Udp => Edns::reply_limit(query.edns),
        Transport::Tcp => MAX_TCP_MESSAGE,
    }
}

/// Counters, for logs and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub queries: u64,
    pub cache_hits: u64,
    pub local: u64,
    pub forwarded: u64,
    pub refused: u64,
    pub malformed: u64,
}

#[derive(Debug)]
pub struct Resolver {
    config: DnsConfig,
    cache: Cache,
    hosts: Hosts,
    names: Arc<LocalNames>,
    /// The configuration's own records, built once.
    records: LocalRecords,
    /// The upstreams as last reported by the shell, for `servers.bind`.
    servers: Vec<UpstreamReport>,
    pub stats: Stats,
}

impl Resolver {
    pub fn new(config: DnsConfig, names: Arc<LocalNames>, hosts: Hosts) -> Resolver {
        // The binary checks every name when it parses the options; a bad
        // one here is a bug, reported and left out.
        let records = LocalRecords::new(&config.records, config.local_ttl).unwrap_or_else(|e| {
            tracing::warn!("local records left out: {e}");
            LocalRecords::default()
        });
        Resolver {
            cache: Cache::new(config.cache),
            config,
            hosts,
            names,
            records,
            servers: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// Clears the cache (SIGHUP) and installs re-read hosts files.
    pub fn reload(&mut self, hosts: Hosts) {
        self.cache.clear();
        self.hosts = hosts;
    }

    /// Installs the upstreams' counters that `servers.bind` reports.
    pub fn set_upstream_report(&mut self, report: Vec<UpstreamReport>) {
        self.servers = report;
    }

    /// The cache's size and what it did so far.
    pub fn cache_counters(&self) -> CacheCounters {
        self.cache.counters()
    }

    /// Decides what to do with `msg` from `source`; a reply goes to `out`.
    pub fn handle_query(
        &mut self,
        msg: &[u8],
        source: IpAddr,
        transport: Transport,
        now: Instant,
        out: &mut Vec<u8>,
    ) -> Decision {
        self.stats.queries += 1;
        let query = match Query::parse(msg) {
            Ok(q) => q,
            Err(e) => {
                self.stats.malformed += 1;
                return match e {
                    QueryError::Drop => Decision::Drop,
                    QueryError::FormErr { id, flags } => {
                        answer::render_header_only(id, flags, rcode::FORMERR, out);
                        Decision::Reply
                    }
                    QueryError::NotImp { id, flags } => {
                        answer::render_header_only(id, flags, rcode::NOTIMP, out);
                        Decision::Reply
                    }
                };
            }
        };
        if !self.allowed(source) {
            self.stats.refused += 1;
            answer::render_empty(&query, msg, rcode::REFUSED, out);
            return Decision::Reply;
        }
        let limit = limit(&query, transport);
        let mut text_buf = [0u8; 256];
        let text = query.name_text(&mut text_buf);
        let mut servers = None;
        if query.qclass == CLASS_CH {
            // Ours or none: CHAOS names are never forwarded (NOTIMP, as
            // dnsmasq answers them with --no-ident or for a name it lacks).
            self.stats.local += 1;
            if !text.is_some_and(|name| self.answer_chaos(&query, msg, name, limit, out)) {
                answer::render_empty(&query, msg, rcode::NOTIMP, out);
            }
            return Decision::Reply;
        }
        if let (Some(name), wire::CLASS_IN) = (text, query.qclass) {
            if self.answer_locally(&query, msg, name, limit, out) {
                self.stats.local += 1;
                return Decision::Reply;
            }
            match self.route(name) {
                Some(RouteTarget::Local) => return self.nxdomain(&query, msg, out),
                Some(RouteTarget::Servers(s)) => servers = Some(s.clone()),
                Some(RouteTarget::Default) => {}
                None => {
                    let single_label = !name.contains('.');
                    if (self.config.domain_needed
                        && single_label
                        && matches!(query.qtype, rtype::A | rtype::AAAA))
                        || (self.config.bogus_priv
                            && query.qtype == rtype::PTR
                            && local::is_private_reverse(name))
                    {
                        return self.nxdomain(&query, msg, out);
                    }
                }
            }
        }
        if let Some(hit) = self.cache.get(query.key(), now) {
            self.stats.cache_hits += 1;
            answer::render(&query, msg, hit.msg, hit.ttl_at, hit.elapsed, limit, out);
            return Decision::Reply;
        }
        self.stats.forwarded += 1;
        Decision::Forward(Box::new(Forward {
            question: msg[..query.question_end].to_vec(),
            query,
            servers,
            transport,
        }))
    }

    /// Finishes a forwarded query with the upstream's validated `reply`, or
    /// SERVFAIL when there is none; caches what may be cached.
    pub fn complete(
        &mut self,
        fwd: &Forward,
        reply: Option<&[u8]>,
        now: Instant,
        out: &mut Vec<u8>,
    ) {
        let prepared = self.prepare(reply);
        self.finish(fwd, prepared.as_ref(), Some(now), out);
    }

    /// An upstream reply in stored form with the TTL limits applied; `None`
    /// when there is no reply or it is malformed.
    pub fn prepare(&self, reply: Option<&[u8]>) -> Option<Prepared> {
        let mut p = reply.and_then(Prepared::from_reply)?;
        p.clamp_ttls(self.config.ttls);
        Some(p)
    }

    /// Writes the reply to `fwd` from `prepared` (SERVFAIL when `None`),
    /// and with `cache_at` stores it in the cache unless a live entry is
    /// there. Queries that waited for another's upstream exchange pass
    /// `None`: the one that asked has cached the answer already.
    pub fn finish(
        &mut self,
        fwd: &Forward,
        prepared: Option<&Prepared>,
        cache_at: Option<Instant>,
        out: &mut Vec<u8>,
    ) -> Option<Inserted> {
        let Some(p) = prepared else {
            answer::render_empty(&fwd.query, &fwd.question, rcode::SERVFAIL, out);
            return None;
        };
        let inserted = cache_at.map(|now| self.cache.insert(fwd.query.key(), p, now));
        answer::render(
            &fwd.query,
            &fwd.question,
            &p.msg,
            &p.ttl_at,
            0,
            fwd.limit(),
            out,
        );
        inserted
    }

    fn allowed(&self, source: IpAddr) -> bool {
        source.is_loopback() || self.config.client_nets.iter().any(|n| n.contains(source))
    }

    fn nxdomain(&mut self, query: &Query, msg: &[u8], out: &mut Vec<u8>) -> Decision {
        self.stats.local += 1;
        local::begin(query, msg, rcode::NXDOMAIN, out);
        local::finish(query, limit(query, Transport::Udp), out);
        Decision::Reply
    }

    /// Answers a CHAOS TXT query for one of the `*.bind` names; false
    /// when it is not one or `--no-ident` is set.
    fn answer_chaos(
        &self,
        query: &Query,
        msg: &[u8],
        name: &str,
        limit: usize,
        out: &mut Vec<u8>,
    ) -> bool {
        if self.config.no_ident || !matches!(query.qtype, rtype::TXT | rtype::ANY) {
            return false;
        }
        let counters = chaos::Counters {
            cache_size: self.config.cache.entries,
            cache: self.cache.counters(),
            hits: self.stats.cache_hits,
            misses: self.stats.forwarded,
            servers: &self.servers,
            hostname: self.config.hostname.as_deref(),
        };
        let Some(texts) = chaos::answer(name, &counters) else {
            return false;
        };
        let Some(record) = records::chaos_txt(name, texts) else {
            return false;
        };
        local::begin(query, msg, rcode::NOERROR, out);
        records::push_records(std::slice::from_ref(&record), out);
        local::finish(query, limit, out);
        true
    }

    /// Answers from local data if the name is local; false otherwise.
    fn answer_locally(
        &self,
        query: &Query,
        msg: &[u8],
        name: &str,
        limit: usize,
        out: &mut Vec<u8>,
    ) -> bool {
        let table = self.names.snapshot();
        let ttl = self.config.local_ttl;
        if !self.records.is_empty()
            && let Some(found) = self.records.resolve(
                name,
                query.qtype,
                |n| table.lookup(n).or_else(|| self.hosts.lookup(n)),
                ttl,
            )
        {
            local::begin(query, msg, rcode::NOERROR, out);
            records::push_records(&found, out);
            local::finish(query, limit, out);
            return true;
        }
        if let Some(addrs) = table.lookup(name).or_else(|| self.hosts.lookup(name)) {
            local::begin(query, msg, rcode::NOERROR, out);
            local::push_addrs(query, addrs, ttl, out);
            local::finish(query, limit, out);
            return true;
        }
        if query.qtype == rtype::PTR
            && let Some(addr) = local::reverse_addr(name)
            && let Some(owner) = table.reverse(&addr).or_else(|| self.hosts.reverse(&addr))
        {
            local::begin(query, msg, rcode::NOERROR, out);
            local::push_ptr(owner, ttl, out);
            local::finish(query, limit, out);
            return true;
        }
        let rule = self
            .config
            .addresses
            .iter()
            .filter_map(|r| {
                r.domains
                    .iter()
                    .filter(|d| in_domain(name, d))
                    .map(|d| d.len())
                    .max()
                    .map(|len| (len, r))
            })
            .max_by_key(|(len, _)| *len);
        if let Some((_, rule)) = rule {
            let addrs: [IpAddr; 2];
            let list: &[IpAddr] = match rule.answer {
                AddressAnswer::NxDomain => {
                    local::begin(query, msg, rcode::NXDOMAIN, out);
                    local::finish(query, limit, out);
                    return true;
                }
                AddressAnswer::Unspecified => {
                    addrs = [
                        IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                        IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
                    ];
                    &addrs
                }
                AddressAnswer::Addr(ref a) => std::slice::from_ref(a),
            };
            local::begin(query, msg, rcode::NOERROR, out);
            local::push_addrs(query, list, ttl, out);
            local::finish(query, limit, out);
            return true;
        }
        if let Some(domain) = &self.config.domain
            && in_domain(name, domain)
        {
            // The containers' domain is ours alone: a name not leased is
            // not there, and is never asked of the upstreams.
            local::begin(query, msg, rcode::NXDOMAIN, out);
            local::finish(query, limit, out);
            return true;
        }
        false
    }

    fn route(&self, name: &str) -> Option<&RouteTarget> {
        self.config
            .routes
            .iter()
            .filter(|r| in_domain(name, &r.domain))
            .max_by_key(|r| r.domain.len())
            .map(|r| &r.target)
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod ttl_tests;
