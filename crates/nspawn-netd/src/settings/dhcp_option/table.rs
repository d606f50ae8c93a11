//! dnsmasq's option names (`dnsmasq --help dhcp`, `--help dhcp6`) and the
//! type of value each option takes.

/// How an option's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// IPv4 addresses, `0.0.0.0` the server's own.
    Addrs,
    /// The rest of the value, commas included.
    Text,
    U8,
    U16,
    U32,
    I32,
    Bool,
    /// Domain names (RFC 3397 for 119).
    Domains,
    /// RFC 3442 `NET/LEN,ROUTER` pairs.
    Routes,
    /// RFC 3361: addresses or names.
    Sip,
    /// Hex bytes (`01:02`) or text.
    Bytes,
    /// IPv6 addresses, `[::]` the server's own.
    Addrs6,
    /// Known, not configurable here: the reason.
    Refused(&'static str),
}

use Kind::*;

const MANAGED: &str = "the server sets this option itself";

/// (code, name, kind) of every DHCPv4 option dnsmasq names.
pub(super) const V4: &[(u8, &str, Kind)] = &[
    (1, "netmask", Addrs),
    (2, "time-offset", I32),
    (3, "router", Addrs),
    (6, "dns-server", Addrs),
    (7, "log-server", Addrs),
    (9, "lpr-server", Addrs),
    (13, "boot-file-size", U16),
    (15, "domain-name", Text),
    (16, "swap-server", Addrs),
    (17, "root-path", Text),
    (18, "extension-path", Text),
    (19, "ip-forward-enable", Bool),
    (20, "non-local-source-routing", Bool),
    (21, "policy-filter", Addrs),
    (22, "max-datagram-reassembly", U16),
    (23, "default-ttl", U8),
    (26, "mtu", U16),
    (27, "all-subnets-local", Bool),
    (31, "router-discovery", Bool),
    (32, "router-solicitation", Addrs),
    (33, "static-route", Addrs),
    (34, "trailer-encapsulation", Bool),
    (35, "arp-timeout", U32),
    (36, "ethernet-encap", Bool),
    (37, "tcp-ttl", U8),
    (38, "tcp-keepalive", U32),
    (40, "nis-domain", Text),
    (41, "nis-server", Addrs),
    (42, "ntp-server", Addrs),
    (44, "netbios-ns", Addrs),
    (45, "netbios-dd", Addrs),
    (46, "netbios-nodetype", U8),
    (47, "netbios-scope", Text),
    (48, "x-windows-fs", Addrs),
    (49, "x-windows-dm", Addrs),
    (58, "T1", U32),
    (59, "T2", U32),
    (60, "vendor-class", Text),
    (64, "nis+-domain", Text),
    (65, "nis+-server", Addrs),
    (66, "tftp-server", Text),
    (67, "bootfile-name", Text),
    (68, "mobile-ip-home", Addrs),
    (69, "smtp-server", Addrs),
    (70, "pop3-server", Addrs),
    (71, "nntp-server", Addrs),
    (74, "irc-server", Addrs),
    (77, "user-class", Text),
    (80, "rapid-commit", Refused("use --dhcp-rapid-commit")),
    (93, "client-arch", U16),
    (94, "client-interface-id", Bytes),
    (97, "client-machine-id", Bytes),
    (100, "posix-timezone", Text),
    (101, "tzdb-timezone", Text),
    (108, "ipv6-only", U32),
    (119, "domain-search", Domains),
    (120, "sip-server", Sip),
    (121, "classless-static-route", Routes),
    (125, "vendor-id-encap", Bytes),
    (150, "tftp-server-address", Addrs),
    (
        255,
        "server-ip-address",
        Refused("the siaddr field is not supported"),
    ),
];

/// Codes only the server itself may send (or no one may).
pub(super) const V4_MANAGED: &[(u8, &str)] = &[
    (0, "pad"),
    (50, MANAGED),
    (51, "the lease time comes from --dhcp-range or --dhcp-host"),
    (52, MANAGED),
    (53, MANAGED),
    (54, MANAGED),
    (55, "a client's option"),
    (57, "a client's option"),
    (61, "a client's option"),
    (82, "a relay agent's option"),
];

/// (code, name, kind) of every DHCPv6 option dnsmasq names.
pub(super) const V6: &[(u16, &str, Kind)] = &[
    (21, "sip-server-domain", Domains),
    (22, "sip-server", Addrs6),
    (23, "dns-server", Addrs6),
    (24, "domain-search", Domains),
    (27, "nis-server", Addrs6),
    (28, "nis+-server", Addrs6),
    (29, "nis-domain", Domains),
    (30, "nis+-domain", Domains),
    (31, "sntp-server", Addrs6),
    (32, "information-refresh-time", U32),
    (41, "posix-timezone", Text),
    (42, "tzdb-timezone", Text),
    (
        56,
        "ntp-server",
        Refused("its suboptions are not supported; use option6:sntp-server"),
    ),
    (59, "bootfile-url", Text),
    (60, "bootfile-param", Refused("not supported")),
];

pub(super) fn v4_by_name(name: &str) -> Option<(u8, Kind)> {
    V4.iter()
        .find(|(_, n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(c, _, k)| (c, k))
}

pub(super) fn v4_by_code(code: u8) -> Option<Kind> {
    V4.iter().find(|(c, _, _)| *c == code).map(|&(_, _, k)| k)
}

pub(super) fn v6_by_name(name: &str) -> Option<(u16, Kind)> {
    V6.iter()
        .find(|(_, n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(c, _, k)| (c, k))
}

pub(super) fn v6_by_code(code: u16) -> Option<Kind> {
    V6.iter().find(|(c, _, _)| *c == code).map(|&(_, _, k)| k)
}
