//! Records the configuration declares (`--host-record`, `--cname`,
//! `--txt-record`, `--srv-host`, `--ptr-record`, `--mx-host`,
//! `--interface-name`), held as hickory-proto [`Record`]s and answered
//! authoritatively. A CNAME whose target is known locally is answered with
//! the target's records too, as dnsmasq does.
//!
//! The binary parses the options into [`RecordSpec`]s; the shell reads the
//! addresses of `--interface-name` interfaces and hands them in as
//! [`RecordSpec::Host`] values. Nothing here touches the system.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, PTR, SRV, TXT};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};

use super::wire;

/// The longest CNAME chain followed before answering with what was found.
const MAX_CHAIN: usize = 8;

/// One record option, parsed. Names are lower-case, without trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordSpec {
    /// `--host-record` (and `--interface-name`, with the interface's
    /// addresses): A/AAAA for every name, PTR for each address to the
    /// first name. No address: the names exist with no records (NODATA).
    Host {
        names: Vec<String>,
        addrs: Vec<IpAddr>,
        ttl: Option<u32>,
    },
    /// `--cname=ALIAS[,ALIAS...],TARGET[,TTL]`.
    Cname {
        aliases: Vec<String>,
        target: String,
        ttl: Option<u32>,
    },
    /// `--txt-record=NAME[,TEXT...]`: each text one character-string (or
    /// several of 255 bytes at most).
    Txt { name: String, texts: Vec<Vec<u8>> },
    /// `--srv-host`: `None` is "service not available here" (target `.`).
    Srv {
        name: String,
        target: Option<SrvTarget>,
    },
    /// `--ptr-record=NAME[,TARGET]`; no target: a PTR to the root.
    Ptr {
        name: String,
        target: Option<String>,
    },
    /// `--mx-host=NAME,HOST,PREFERENCE`.
    Mx {
        name: String,
        host: String,
        preference: u16,
    },
}

impl RecordSpec {
    /// The names this record answers for (not its targets).
    pub fn owner_names(&self) -> Vec<&str> {
        match self {
            RecordSpec::Host { names, .. } => names.iter().map(String::as_str).collect(),
            RecordSpec::Cname { aliases, .. } => aliases.iter().map(String::as_str).collect(),
            RecordSpec::Txt { name, .. }
            | RecordSpec::Srv { name, .. }
            | RecordSpec::Ptr { name, .. }
            | RecordSpec::Mx { name, .. } => vec![name.as_str()],
        }
    }
}

/// The target part of `--srv-host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvTarget {
    pub host: String,
    pub port: u16,
    pub priority: u16,
    pub weight: u16,
}

/// A name in a record option that is not a valid DNS name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a valid DNS name")]
pub struct BadName {
    pub name: String,
}

/// Checks that `s` can be a record's name or target.
pub fn check_name(s: &str) -> Result<(), BadName> {
    dns_name(s).map(|_| ())
}

pub(crate) fn dns_name(s: &str) -> Result<Name, BadName> {
    let bad = || BadName { name: s.into() };
    if s.is_empty() {
        return Ok(Name::root());
    }
    let mut name = Name::from_ascii(s).map_err(|_| bad())?;
    name.set_fqdn(true);
    Ok(name)
}

/// The records, by owner name, and the PTR names of host addresses.
#[derive(Debug, Default, Clone)]
pub struct LocalRecords {
    by_name: HashMap<String, Vec<Record>>,
    /// Names given by `--host-record`/`--interface-name`, which exist even
    /// with no address (an interface without one).
    hosts: HashSet<String>,
    /// Address → (owner name for its PTR, TTL): the first name given.
    reverse: HashMap<IpAddr, (Name, u32)>,
}

impl LocalRecords {
    /// Builds the records; `local_ttl` is the TTL of those given none.
    pub fn new(specs: &[RecordSpec], local_ttl: u32) -> Result<LocalRecords, BadName> {
        let mut r = LocalRecords::default();
        for spec in specs {
            match spec {
                RecordSpec::Host { names, addrs, ttl } => {
                    let ttl = ttl.unwrap_or(local_ttl);
                    for (i, n) in names.iter().enumerate() {
                        let owner = dns_name(n)?;
                        r.hosts.insert(n.clone());
                        for a in addrs {
                            let data = match a {
                                IpAddr::V4(v4) => RData::A(A(*v4)),
                                IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
                            };
                            r.push(n, Record::from_rdata(owner.clone(), ttl, data));
                            if i == 0 {
                                r.reverse.entry(*a).or_insert((owner.clone(), ttl));
                            }
                        }
                    }
                }
                RecordSpec::Cname {
                    aliases,
                    target,
                    ttl,
                } => {
                    let to = dns_name(target)?;
                    for a in aliases {
                        let rec = Record::from_rdata(
                            dns_name(a)?,
                            ttl.unwrap_or(local_ttl),
                            RData::CNAME(CNAME(to.clone())),
                        );
                        r.push(a, rec);
                    }
                }
                RecordSpec::Txt { name, texts } => {
                    let strings: Vec<&[u8]> = texts.iter().map(Vec::as_slice).collect();
                    let data = RData::TXT(TXT::from_bytes(strings));
                    r.push(name, Record::from_rdata(dns_name(name)?, local_ttl, data));
                }
                RecordSpec::Srv { name, target } => {
                    let data = match target {
                        Some(t) => SRV::new(t.priority, t.weight, t.port, dns_name(&t.host)?),
                        None => SRV::new(0, 0, 0, Name::root()),
                    };
                    let rec = Record::from_rdata(dns_name(name)?, local_ttl, RData::SRV(data));
                    r.push(name, rec);
                }
                RecordSpec::Ptr { name, target } => {
                    let to = dns_name(target.as_deref().unwrap_or(""))?;
                    let rec = Record::from_rdata(dns_name(name)?, local_ttl, RData::PTR(PTR(to)));
                    r.push(name, rec);
                }
                RecordSpec::Mx {
                    name,
                    host,
                    preference,
                } => {
                    let data = RData::MX(MX::new(*preference, dns_name(host)?));
                    r.push(name, Record::from_rdata(dns_name(name)?, local_ttl, data));
                }
            }
        }
        Ok(r)
    }

    fn push(&mut self, name: &str, rec: Record) {
        self.by_name.entry(name.to_owned()).or_default().push(rec);
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty() && self.hosts.is_empty()
    }

    /// The records answering `qtype` at `name`, following CNAMEs; `other`
    /// gives the addresses of names known elsewhere (leases, hosts files)
    /// for a CNAME's target. `None`: the name is not ours to answer.
    /// `Some(empty)`: it is ours and has no such record (NODATA).
    pub(crate) fn resolve<'a>(
        &self,
        name: &str,
        qtype: u16,
        other: impl Fn(&str) -> Option<&'a [IpAddr]>,
        local_ttl: u32,
    ) -> Option<Vec<Record>> {
        if qtype == u16::from(RecordType::PTR)
            && let Some(addr) = super::local::reverse_addr(name)
            && let Some((owner, ttl)) = self.reverse.get(&addr)
        {
            let rec =
                Record::from_rdata(dns_name(name).ok()?, *ttl, RData::PTR(PTR(owner.clone())));
            return Some(vec![rec]);
        }
        if !self.by_name.contains_key(name) && !self.hosts.contains(name) {
            // Not ours; and the cache-hit path that follows must not
            // allocate.
            return None;
        }
        let mut found: Vec<Record> = Vec::new();
        let mut owner = name.to_owned();
        for _ in 0..MAX_CHAIN {
            let Some(recs) = self.by_name.get(&owner) else {
                if found.is_empty() {
                    // A host with no address (an interface without one).
                    return self.hosts.contains(&owner).then(Vec::new);
                }
                // A CNAME's target known from leases or hosts files.
                if let (Some(addrs), Ok(n)) = (other(&owner), dns_name(&owner)) {
                    for a in addrs {
                        let data = match a {
                            IpAddr::V4(v4) => RData::A(A(*v4)),
                            IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
                        };
                        if wanted(&data, qtype) {
                            found.push(Record::from_rdata(n.clone(), local_ttl, data));
                        }
                    }
                }
                return Some(found);
            };
            if let Some(c) = recs.iter().find(|r| matches!(r.data, RData::CNAME(_))) {
                found.push(c.clone());
                let RData::CNAME(CNAME(target)) = &c.data else {
                    return Some(found);
                };
                if qtype == u16::from(RecordType::CNAME) {
                    return Some(found);
                }
                owner = target.to_lowercase().to_ascii();
                owner.truncate(owner.trim_end_matches('.').len());
                continue;
            }
            // A name with records of other types only answers NODATA, as
            // in dnsmasq: the name is ours, so never asked upstream.
            found.extend(recs.iter().filter(|r| wanted(&r.data, qtype)).cloned());
            return Some(found);
        }
        Some(found)
    }
}

fn wanted(data: &RData, qtype: u16) -> bool {
    qtype == wire::rtype::ANY || u16::from(data.record_type()) == qtype
}

/// Appends `records` to the reply in `out` (header and question written)
/// as answers, counting them in ANCOUNT. Names are compressed against the
/// records written here.
pub(crate) fn push_records(records: &[Record], out: &mut Vec<u8>) {
    let mut good = out.len();
    let mut written = 0u16;
    {
        let mut enc = BinEncoder::with_offset(out, good as u32);
        for r in records {
            if r.emit(&mut enc).is_err() {
                break;
            }
            good = enc.len();
            written += 1;
        }
    }
    // A record that failed half-written is cut off.
    out.truncate(good);
    let an = wire::u16_at(out, 6).unwrap_or(0);
    wire::put_u16(out, 6, an + written);
}

/// A TXT record of class CHAOS (`version.bind` and the counters).
pub(crate) fn chaos_txt(name: &str, texts: Vec<String>) -> Option<Record> {
    let mut rec = Record::from_rdata(dns_name(name).ok()?, 0, RData::TXT(TXT::new(texts)));
    rec.dns_class = DNSClass::CH;
    Some(rec)
}

#[cfg(test)]
mod tests;
