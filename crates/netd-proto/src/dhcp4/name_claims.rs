//! Who may publish a hostname. dnsmasq gives a name to the newest client
//! that asks for it, so one container can take another's name while that
//! one still runs. Here a name held by a bound lease moves to another client
//! only when the holder's lease has ended, or when the holder no longer
//! answers an ARP probe: the core asks the shell for that probe
//! ([`NameProbe`]) and moves the name when the shell reports silence
//! ([`super::Server::name_probe_result`]). Names of reservations (for any
//! other MAC), hosts files and local records are never given to a client
//! that asks for them.
//!
//! The client asking for a held name gets its address at once, without the
//! name; a refusal is logged once per client and name. While the holder
//! answers, the claim stands and the holder is probed again every
//! [`RECHECK`], so the name follows as soon as the holder is gone.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use tracing::info;

use super::leases::ClientKey;
use crate::MacAddr;

/// A holder that answered is probed again this much later, while the claim
/// stands (three ARP requests per claimed name this often).
pub const RECHECK: Duration = Duration::from_secs(10);
/// Claims open at most; more wait for their client's next request.
const MAX_CLAIMS: usize = 256;
/// Refusals remembered so each is logged once; forgotten all at once past
/// this many.
const MAX_LOGGED: usize = 4096;

/// Ask the shell: does `holder_addr` still answer ARP?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameProbe {
    /// Lower-case.
    pub name: String,
    pub holder_addr: Ipv4Addr,
    pub holder_mac: [u8; 6],
}

/// Who holds a name now, as the server's lease table says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holder {
    pub key: ClientKey,
    pub addr: Ipv4Addr,
    pub mac: [u8; 6],
}

/// What the server does with a name a client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    Grant,
    Refuse,
}

#[derive(Debug, Clone)]
struct Claim {
    claimant: ClientKey,
    holder_addr: Ipv4Addr,
    holder_mac: [u8; 6],
    /// When to probe the holder again; `None` while a probe is out.
    recheck_at: Option<SystemTime>,
}

#[derive(Debug, Default)]
pub(crate) struct NameClaims {
    /// Name (lower-case) to the address of the lease that last took it;
    /// checked against the lease table on use, so a stale entry is harmless.
    holders: HashMap<String, Ipv4Addr>,
    /// The reverse: one name per address, so a client that keeps changing
    /// its name leaves at most one entry behind, not one per name.
    names_by_addr: HashMap<Ipv4Addr, String>,
    /// Reservation names: a client its host entry names gets the name
    /// through that entry, never through here.
    reserved: HashSet<String>,
    /// Names from hosts files and local records: nobody's by DHCP.
    protected: HashSet<String>,
    /// Names another client asked for, by name.
    pending: HashMap<String, Claim>,
    probes: VecDeque<NameProbe>,
    logged: HashSet<(ClientKey, String)>,
}

impl NameClaims {
    pub(crate) fn new<'a>(reserved: impl Iterator<Item = &'a str>) -> NameClaims {
        let mut claims = NameClaims::default();
        claims.set_reserved(reserved);
        claims
    }

    /// The names host entries give (they changed: a hosts file).
    pub(crate) fn set_reserved<'a>(&mut self, reserved: impl Iterator<Item = &'a str>) {
        self.reserved = reserved.map(str::to_ascii_lowercase).collect();
    }

    /// Names no client gets. A client's name is published bare and under
    /// the domain, so a name's first label is protected too.
    pub(crate) fn set_protected(&mut self, names: impl IntoIterator<Item = String>) {
        self.protected.clear();
        for n in names {
            let n = n.trim_end_matches('.').to_ascii_lowercase();
            if let Some((first, _)) = n.split_once('.') {
                self.protected.insert(first.to_owned());
            }
            self.protected.insert(n);
        }
    }

    /// The lease at `addr` now carries `name`.
    pub(crate) fn took(&mut self, name: &str, addr: Ipv4Addr) {
        let name = name.to_ascii_lowercase();
        self.pending.remove(&name);
        if let Some(old) = self.names_by_addr.insert(addr, name.clone())
            && old != name
            && self.holders.get(&old) == Some(&addr)
        {
            self.holders.remove(&old);
        }
        if let Some(prev_addr) = self.holders.insert(name.clone(), addr)
            && prev_addr != addr
            && self.names_by_addr.get(&prev_addr) == Some(&name)
        {
            self.names_by_addr.remove(&prev_addr);
        }
    }

    /// The address recorded for `name` (to look its lease up).
    pub(crate) fn recorded_holder(&self, name: &str) -> Option<Ipv4Addr> {
        self.holders.get(&name.to_ascii_lowercase()).copied()
    }

    /// Whether `key` (with `mac`) may use `name`, given its current
    /// `holder` (a bound, unexpired lease carrying it, if any).
    pub(crate) fn decide(
        &mut self,
        name: &str,
        key: &ClientKey,
        mac: [u8; 6],
        holder: Option<Holder>,
    ) -> Decision {
        let lower = name.to_ascii_lowercase();
        let short = lower.split('.').next().unwrap_or_default();
        if self.protected.contains(&lower) || self.protected.contains(short) {
            self.log_once(key, mac, &lower, "a hosts file or local record has it");
            return Decision::Refuse;
        }
        if self.reserved.contains(&lower) {
            self.log_once(key, mac, &lower, "it is reserved for another host");
            return Decision::Refuse;
        }
        let Some(holder) = holder.filter(|h| h.key != *key) else {
            return Decision::Grant;
        };
        self.log_once(key, mac, &lower, "a live lease holds it");
        if !self.pending.contains_key(&lower) && self.pending.len() < MAX_CLAIMS {
            self.pending.insert(
                lower.clone(),
                Claim {
                    claimant: key.clone(),
                    holder_addr: holder.addr,
                    holder_mac: holder.mac,
                    recheck_at: None,
                },
            );
            self.probes.push_back(NameProbe {
                name: lower,
                holder_addr: holder.addr,
                holder_mac: holder.mac,
            });
        }
        Decision::Refuse
    }

    /// The next probe to send: a new claim's, or a standing claim's whose
    /// recheck is due.
    pub(crate) fn poll_probe(&mut self, now: SystemTime) -> Option<NameProbe> {
        if let Some(p) = self.probes.pop_front() {
            return Some(p);
        }
        let (name, claim) = self
            .pending
            .iter_mut()
            .find(|(_, c)| c.recheck_at.is_some_and(|t| t <= now))?;
        claim.recheck_at = None;
        Some(NameProbe {
            name: name.clone(),
            holder_addr: claim.holder_addr,
            holder_mac: claim.holder_mac,
        })
    }

    /// The client waiting for `name`.
    pub(crate) fn claimant(&self, name: &str) -> Option<&ClientKey> {
        self.pending.get(name).map(|c| &c.claimant)
    }

    /// Drops the claim on `name` (its client is gone).
    pub(crate) fn cancel(&mut self, name: &str) {
        self.pending.remove(name);
    }

    /// The probe's result: `Some(claimant)` when the name is to move (the
    /// holder is silent and the claim still stands). A holder that
    /// answered is probed again after [`RECHECK`].
    pub(crate) fn probed(
        &mut self,
        probe: &NameProbe,
        answered: bool,
        now: SystemTime,
    ) -> Option<ClientKey> {
        let claim = self.pending.get_mut(&probe.name)?;
        if claim.holder_addr != probe.holder_addr || claim.recheck_at.is_some() {
            return None;
        }
        if answered {
            claim.recheck_at = Some(now + RECHECK);
            return None;
        }
        self.pending.remove(&probe.name).map(|c| c.claimant)
    }

    fn log_once(&mut self, key: &ClientKey, mac: [u8; 6], name: &str, why: &str) {
        if self.logged.len() >= MAX_LOGGED {
            self.logged.clear();
        }
        if self.logged.insert((key.clone(), name.to_owned())) {
            info!(mac = %MacAddr(mac), name, "not giving the name: {why}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 6] = [2, 0, 0, 0, 0, 0xa];
    const B: [u8; 6] = [2, 0, 0, 0, 0, 0xb];

    fn holder(mac: [u8; 6], last: u8) -> Holder {
        Holder {
            key: ClientKey::Mac(mac),
            addr: Ipv4Addr::new(192, 168, 26, last),
            mac,
        }
    }

    #[test]
    fn a_held_name_is_refused_and_its_holder_probed_until_silent() {
        let mut c = NameClaims::default();
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let b = ClientKey::Mac(B);
        assert_eq!(c.decide("web", &b, B, None), Decision::Grant);
        assert_eq!(
            c.decide("web", &b, B, Some(holder(B, 21))),
            Decision::Grant,
            "its own name"
        );
        for _ in 0..2 {
            assert_eq!(
                c.decide("Web", &b, B, Some(holder(A, 20))),
                Decision::Refuse
            );
        }
        let p = c.poll_probe(t).expect("a probe of the holder");
        assert_eq!(p.holder_addr, Ipv4Addr::new(192, 168, 26, 20));
        assert_eq!((p.name.as_str(), p.holder_mac), ("web", A));
        assert_eq!(c.poll_probe(t), None, "one probe per claim");
        assert_eq!(c.claimant("web"), Some(&b));
        // The holder answers: no move; probed again after RECHECK.
        assert_eq!(c.probed(&p, true, t), None);
        assert_eq!(c.probed(&p, false, t), None, "no probe is out");
        assert_eq!(c.poll_probe(t + RECHECK / 2), None);
        let p = c.poll_probe(t + RECHECK).expect("probed again");
        // Silent now: the name moves to the claimant.
        assert_eq!(c.probed(&p, false, t + RECHECK), Some(b));
        assert_eq!(c.probed(&p, false, t + RECHECK), None, "once");
        assert_eq!(c.claimant("web"), None);
    }

    #[test]
    fn a_client_renaming_itself_leaves_one_entry() {
        let mut c = NameClaims::default();
        let addr = Ipv4Addr::new(192, 168, 26, 20);
        for n in 0..100 {
            c.took(&format!("name{n}"), addr);
        }
        assert_eq!((c.holders.len(), c.names_by_addr.len()), (1, 1));
        assert_eq!(c.recorded_holder("name99"), Some(addr));
        // The name moves to another address: the old address forgets it.
        let other = Ipv4Addr::new(192, 168, 26, 21);
        c.took("name99", other);
        assert_eq!((c.holders.len(), c.names_by_addr.len()), (1, 1));
        assert_eq!(c.recorded_holder("name99"), Some(other));
    }

    #[test]
    fn a_stale_probe_moves_nothing() {
        let mut c = NameClaims::default();
        let t = SystemTime::UNIX_EPOCH;
        c.decide("web", &ClientKey::Mac(B), B, Some(holder(A, 20)));
        let mut p = c.poll_probe(t).unwrap();
        p.holder_addr = Ipv4Addr::new(192, 168, 26, 99);
        assert_eq!(c.probed(&p, false, t), None);
    }

    #[test]
    fn reserved_and_protected_names_are_never_given_to_others() {
        let mut c = NameClaims::new(["db"].into_iter());
        c.set_protected(["gw.lan.".to_owned(), "printer".to_owned()]);
        let t = SystemTime::UNIX_EPOCH;
        let b = ClientKey::Mac(B);
        assert_eq!(c.decide("db", &b, B, None), Decision::Refuse);
        assert_eq!(c.decide("DB", &b, B, None), Decision::Refuse);
        assert_eq!(c.decide("printer", &b, B, None), Decision::Refuse);
        assert_eq!(c.decide("gw.lan", &b, B, None), Decision::Refuse);
        assert_eq!(c.decide("gw", &b, B, None), Decision::Refuse);
        assert_eq!(c.decide("web", &b, B, None), Decision::Grant);
        assert_eq!(c.poll_probe(t), None, "nothing to probe");
    }
}
