//! The options a reply carries, and in which order.
//!
//! First what the message needs (type, server identifier, lease time, T1,
//! T2), then the network options the client asked for, in the order of its
//! parameter request list (RFC 2132 §9.8), then the forced ones
//! (`--dhcp-option-force`) it did not ask for. The subnet mask is always
//! sent (RFC 2131 §4.3.1 recommends it); a client that sends no request
//! list gets every configured option, as dnsmasq does.
//!
//! The network options are our defaults (mask, router, DNS server, domain,
//! MTU, broadcast, search list; mask, broadcast and router are those of the
//! client's range) with the configured options laid over
//! them: a configured option replaces the default of its code, and one
//! without a value removes it. Among configured options of one code whose
//! tags all match, the one with the most tags wins, then the last given.
//! When the classless routes (121) go out, the router (3) does not
//! (RFC 3442: a client that gets both must ignore the router).

use std::net::Ipv4Addr;

use dhcproto::v4::MessageType;
use ipnetwork::Ipv4Network;

use super::config::{Dhcp4Config, LeaseTime};
use super::option_spec::encode_domains;
use super::tags::{Tag, all_match};

/// RFC 2132 option codes of the options the server sends itself.
pub(crate) const SUBNET_MASK: u8 = 1;
pub(crate) const ROUTER: u8 = 3;
pub(crate) const DOMAIN_NAME_SERVER: u8 = 6;
pub(crate) const DOMAIN_NAME: u8 = 15;
pub(crate) const INTERFACE_MTU: u8 = 26;
pub(crate) const BROADCAST_ADDRESS: u8 = 28;
pub(crate) const LEASE_TIME: u8 = 51;
pub(crate) const MESSAGE_TYPE: u8 = 53;
pub(crate) const SERVER_IDENTIFIER: u8 = 54;
pub(crate) const RENEWAL_TIME: u8 = 58;
pub(crate) const REBINDING_TIME: u8 = 59;
/// RFC 4039.
pub(crate) const RAPID_COMMIT: u8 = 80;
pub(crate) const DOMAIN_SEARCH: u8 = 119;
/// RFC 3442.
pub(crate) const CLASSLESS_STATIC_ROUTE: u8 = 121;

/// One option of a reply: its code and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawOption {
    pub(crate) code: u8,
    pub(crate) data: Vec<u8>,
}

impl RawOption {
    fn new(code: u8, data: Vec<u8>) -> RawOption {
        RawOption { code, data }
    }
}

/// A network option ready to go, and whether it goes unasked.
#[derive(Debug, Clone)]
struct Candidate {
    option: RawOption,
    force: bool,
}

/// The network options, built once from the configuration.
#[derive(Debug, Clone)]
pub(crate) struct NetworkOptions {
    /// Our defaults that are the same on every subnet.
    defaults: Vec<RawOption>,
    /// The configured options: (code, payload or `None` for "not sent",
    /// force, tag conditions), in the order given.
    configured: Vec<Configured>,
}

#[derive(Debug, Clone)]
struct Configured {
    code: u8,
    data: Option<Vec<u8>>,
    force: bool,
    tags: Vec<super::tags::TagMatch>,
}

impl NetworkOptions {
    pub(crate) fn new(config: &Dhcp4Config) -> NetworkOptions {
        let server = config.server_addr;
        let addrs = |list: &[Ipv4Addr]| list.iter().flat_map(|a| a.octets()).collect::<Vec<u8>>();
        let mut defaults = Vec::new();
        if !config.dns_servers.is_empty() {
            defaults.push(RawOption::new(
                DOMAIN_NAME_SERVER,
                addrs(&config.dns_servers),
            ));
        }
        let domain = config
            .domain
            .as_deref()
            .map(|d| d.trim_end_matches('.'))
            .filter(|d| !d.is_empty());
        if let Some(domain) = domain {
            defaults.push(RawOption::new(DOMAIN_NAME, domain.as_bytes().to_vec()));
        }
        if let Some(mtu) = config.mtu {
            defaults.push(RawOption::new(INTERFACE_MTU, mtu.to_be_bytes().to_vec()));
        }
        // A domain the binary accepted is a valid name; if not, the search
        // list is left out rather than sent wrong.
        if let Some(domain) = domain
            && let Ok(data) = encode_domains(&[domain.to_owned()], true)
        {
            defaults.push(RawOption::new(DOMAIN_SEARCH, data));
        }
        let configured = config
            .options
            .iter()
            .map(|o| Configured {
                code: o.code,
                data: o.value.payload(server),
                force: o.force,
                tags: o.tags.clone(),
            })
            .collect();
        NetworkOptions {
            defaults,
            configured,
        }
    }

    /// The network options for a request on `subnet` carrying `tags`, in
    /// code order.
    fn candidates(&self, subnet: Option<&SubnetDefaults>, tags: &[Tag]) -> Vec<Candidate> {
        let mut out: Vec<Candidate> = Vec::with_capacity(self.defaults.len() + 3);
        let mut default = |option| {
            out.push(Candidate {
                option,
                force: false,
            })
        };
        if let Some(s) = subnet {
            default(RawOption::new(
                SUBNET_MASK,
                s.subnet.mask().octets().to_vec(),
            ));
            if let Some(router) = s.router {
                default(RawOption::new(ROUTER, router.octets().to_vec()));
            }
            default(RawOption::new(
                BROADCAST_ADDRESS,
                s.subnet.broadcast().octets().to_vec(),
            ));
        }
        for o in &self.defaults {
            default(o.clone());
        }
        for code in self.configured_codes() {
            let winner = self
                .configured
                .iter()
                .filter(|c| c.code == code && all_match(&c.tags, tags))
                .enumerate()
                .max_by_key(|(i, c)| (c.tags.len(), *i))
                .map(|(_, c)| c);
            let Some(winner) = winner else { continue };
            out.retain(|c| c.option.code != code);
            if let Some(data) = &winner.data {
                out.push(Candidate {
                    option: RawOption::new(code, data.clone()),
                    force: winner.force,
                });
            }
        }
        out.sort_by_key(|c| c.option.code);
        out
    }

    fn configured_codes(&self) -> Vec<u8> {
        let mut codes: Vec<u8> = self.configured.iter().map(|c| c.code).collect();
        codes.sort_unstable();
        codes.dedup();
        codes
    }

    /// A configured T1 or T2 that replaces ours, if any.
    fn timer(&self, candidates: &[Candidate], code: u8) -> Option<Vec<u8>> {
        candidates
            .iter()
            .find(|c| c.option.code == code)
            .map(|c| c.option.data.clone())
    }

    /// Every option of a reply, in order.
    pub(crate) fn reply(
        &self,
        header: ReplyHeader,
        prl: Option<&[u8]>,
        tags: &[Tag],
    ) -> Vec<RawOption> {
        let mut out = Vec::with_capacity(12);
        out.push(RawOption::new(
            MESSAGE_TYPE,
            vec![u8::from(header.msg_type)],
        ));
        out.push(RawOption::new(
            SERVER_IDENTIFIER,
            header.server_id.octets().to_vec(),
        ));
        if header.msg_type == MessageType::Nak {
            return out;
        }
        let mut candidates = self.candidates(header.subnet.as_ref(), tags);
        match header.lease {
            Some(LeaseTime::Finite(d)) => {
                let secs = u32::try_from(d.as_secs()).unwrap_or(u32::MAX - 1);
                let t1 = self.timer(&candidates, RENEWAL_TIME);
                let t2 = self.timer(&candidates, REBINDING_TIME);
                out.push(RawOption::new(LEASE_TIME, secs.to_be_bytes().to_vec()));
                out.push(RawOption::new(
                    RENEWAL_TIME,
                    t1.unwrap_or_else(|| (secs / 2).to_be_bytes().to_vec()),
                ));
                out.push(RawOption::new(
                    REBINDING_TIME,
                    t2.unwrap_or_else(|| ((u64::from(secs) * 7 / 8) as u32).to_be_bytes().to_vec()),
                ));
            }
            Some(LeaseTime::Infinite) => {
                out.push(RawOption::new(LEASE_TIME, u32::MAX.to_be_bytes().to_vec()))
            }
            None => {}
        }
        candidates.retain(|c| !matches!(c.option.code, RENEWAL_TIME | REBINDING_TIME));
        if header.rapid_commit {
            out.push(RawOption::new(RAPID_COMMIT, Vec::new()));
        }
        select(&candidates, prl, &mut out);
        out
    }
}

/// What a reply is, for its first options.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReplyHeader {
    pub(crate) msg_type: MessageType,
    pub(crate) server_id: Ipv4Addr,
    pub(crate) lease: Option<LeaseTime>,
    /// An ACK to a DISCOVER with rapid commit (RFC 4039).
    pub(crate) rapid_commit: bool,
    /// The client's subnet, for its mask, broadcast and default router.
    pub(crate) subnet: Option<SubnetDefaults>,
}

/// What a reply's defaults take from the client's range.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SubnetDefaults {
    pub(crate) subnet: Ipv4Network,
    /// Our address on the subnet, or the relay agent's for a relayed one.
    pub(crate) router: Option<Ipv4Addr>,
}

/// The candidates a client with this request list gets, in its order.
fn select(candidates: &[Candidate], prl: Option<&[u8]>, out: &mut Vec<RawOption>) {
    let mut chosen: Vec<&Candidate> = match prl {
        None => candidates.iter().collect(),
        Some(prl) => {
            let mut asked = [false; 256];
            let mut chosen = Vec::new();
            for &code in prl {
                if std::mem::replace(&mut asked[usize::from(code)], true) {
                    continue;
                }
                chosen.extend(candidates.iter().find(|c| c.option.code == code));
            }
            chosen.extend(
                candidates
                    .iter()
                    .filter(|c| !asked[usize::from(c.option.code)])
                    .filter(|c| c.force || c.option.code == SUBNET_MASK),
            );
            chosen
        }
    };
    if chosen
        .iter()
        .any(|c| c.option.code == CLASSLESS_STATIC_ROUTE)
    {
        chosen.retain(|c| c.option.code != ROUTER);
    }
    out.extend(chosen.into_iter().map(|c| c.option.clone()));
}
