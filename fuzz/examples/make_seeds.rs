//! Writes the seed corpora, `fuzz/corpus/TARGET/NAME`, from the messages
//! the unit tests use: real client packets built with dhcproto, queries and
//! upstream replies built with hickory (netd-testkit), RAs and
//! RSs from our codec, nf_tables messages from our batch encoder, and the
//! shipped configuration files. Run from `fuzz/`:
//! `cargo run --example make_seeds` (it replaces the corpora it writes).

use std::fs;
use std::net::Ipv4Addr;
use std::path::Path;

use dhcproto::v4::{self, DhcpOption, Flags, MessageType, Opcode, OptionCode};
use dhcproto::{Encodable, Encoder};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use netd_bridge::nft::batch;
use netd_bridge::{BridgeConfig, Inbound};
use netd_proto::dhcp4::LeaseRecord;
use netd_proto::dhcp4::journal::{Change, encode_change, encode_snapshot, journal_header};
use netd_proto::ra::option::{DnsSearchList, Lifetime, PrefixInformation, RecursiveDnsServers};
use netd_proto::ra::wire::{RouterAdvertRepr, RouterPreference, RouterSolicitRepr};
use netd_testkit::dns_messages::{a, query_bytes, reply, soa, txt};
use nspawn_netd_fuzz::frame;

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 26, 1);

fn main() {
    let root = Path::new("corpus");
    let mut total = 0;
    for (target, seeds) in [
        ("dhcp4_request", dhcp4_requests()),
        ("dhcp4_server", dhcp4_exchanges()),
        ("dhcp6_server", dhcp6_messages()),
        ("ra_codec", ra_messages()),
        ("dns_query", dns_queries()),
        ("dns_resolver", dns_query_sequences()),
        ("dns_forward", dns_forwards()),
        ("lease_file", lease_files()),
        ("lease_journal", journals()),
        ("dnsmasq_conf", config_files()),
        ("settings_values", option_values()),
        ("nft_reply", nft_messages()),
    ] {
        let dir = root.join(target);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("creating the corpus directory");
        for (name, bytes) in &seeds {
            fs::write(dir.join(name), bytes).expect("writing a seed");
        }
        println!("{target}: {} seeds", seeds.len());
        total += seeds.len();
    }
    println!("{total} seeds in all");
}

type Seeds = Vec<(String, Vec<u8>)>;

fn mac(n: u8) -> [u8; 6] {
    [0x52, 0x54, 0, 0x12, 0x34, n]
}

fn dhcp(t: MessageType, mac: [u8; 6], opts: &[DhcpOption]) -> v4::Message {
    let mut m = v4::Message::new_with_id(
        0x1234_5678,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &mac,
    );
    m.set_opcode(Opcode::BootRequest);
    m.opts_mut().insert(DhcpOption::MessageType(t));
    for o in opts {
        m.opts_mut().insert(o.clone());
    }
    m
}

fn bytes(m: &v4::Message) -> Vec<u8> {
    let mut buf = Vec::new();
    m.encode(&mut Encoder::new(&mut buf)).expect("encoding");
    buf
}

fn dhcp4_requests() -> Seeds {
    let prl = DhcpOption::ParameterRequestList(
        [1u8, 3, 6, 15, 26, 28, 119]
            .iter()
            .map(|c| OptionCode::from(*c))
            .collect(),
    );
    let id = DhcpOption::ClientIdentifier(vec![1, 0x52, 0x54, 0, 0x12, 0x34, 1]);
    let host = DhcpOption::Hostname("web".into());
    let req = DhcpOption::RequestedIpAddress(Ipv4Addr::new(192, 168, 26, 20));
    let sid = DhcpOption::ServerIdentifier(SERVER);
    let mut seeds: Seeds = vec![
        (
            "discover".into(),
            bytes(&dhcp(MessageType::Discover, mac(1), &[])),
        ),
        (
            "discover-full".into(),
            bytes(&dhcp(
                MessageType::Discover,
                mac(1),
                &[prl.clone(), id.clone(), host.clone()],
            )),
        ),
        (
            "request-select".into(),
            bytes(&dhcp(
                MessageType::Request,
                mac(1),
                &[req.clone(), sid.clone(), host.clone()],
            )),
        ),
        (
            "request-reboot".into(),
            bytes(&dhcp(MessageType::Request, mac(2), &[req.clone()])),
        ),
        (
            "decline".into(),
            bytes(&dhcp(
                MessageType::Decline,
                mac(1),
                &[req.clone(), sid.clone()],
            )),
        ),
        (
            "release".into(),
            bytes(&dhcp(MessageType::Release, mac(1), &[sid.clone()])),
        ),
        (
            "inform".into(),
            bytes(&dhcp(MessageType::Inform, mac(3), &[prl.clone()])),
        ),
    ];
    let mut renew = dhcp(MessageType::Request, mac(1), &[id.clone()]);
    renew.set_ciaddr(Ipv4Addr::new(192, 168, 26, 20));
    seeds.push(("request-renew".into(), bytes(&renew)));
    let mut relayed = dhcp(MessageType::Discover, mac(4), &[]);
    relayed.set_giaddr(Ipv4Addr::new(192, 168, 26, 254));
    relayed.set_flags(Flags::default().set_broadcast());
    seeds.push(("discover-relayed-broadcast".into(), bytes(&relayed)));
    // Option 81 in ASCII and in wire format, spliced in by hand, and a
    // split option 61 (RFC 3396) and an option 82.
    let base = bytes(&dhcp(MessageType::Discover, mac(5), &[]));
    let splice = |extra: &[u8]| {
        let mut b = base[..243].to_vec();
        b.extend_from_slice(extra);
        b.push(255);
        b
    };
    seeds.push((
        "fqdn-ascii".into(),
        splice(&[81, 7, 0, 0, 0, b'b', b'o', b'x', b'.']),
    ));
    seeds.push((
        "fqdn-wire".into(),
        splice(&[81, 8, 4, 0, 0, 3, b'b', b'o', b'x', 0]),
    ));
    seeds.push((
        "client-id-split".into(),
        splice(&[61, 3, 1, 2, 3, 61, 2, 4, 5]),
    ));
    seeds.push(("relay-agent".into(), splice(&[82, 6, 1, 4, 0, 0, 0, 1])));
    seeds.push((
        "hostname-odd".into(),
        splice(&[12, 9, b'M', b'y', b'_', b'B', b'o', b'x', b' ', b'2', b'.']),
    ));
    // Malformed: short, bad cookie, a reply, not Ethernet, an option past the end.
    seeds.push(("short".into(), base[..100].to_vec()));
    let mut cookie = base.clone();
    cookie[236] = 0;
    seeds.push(("bad-cookie".into(), cookie));
    let mut reply = base.clone();
    reply[0] = 2;
    seeds.push(("bootreply".into(), reply));
    let mut token = base.clone();
    token[1] = 6;
    seeds.push(("not-ethernet".into(), token));
    seeds.push(("option-past-end".into(), splice(&[12, 200, b'x'])));
    seeds
}

/// Framed sequences for the server target: tag % 4 = 0 packet, 2 time,
/// 3 restart.
fn dhcp4_exchanges() -> Seeds {
    let sid = DhcpOption::ServerIdentifier(SERVER);
    let addr = |n: u8| Ipv4Addr::new(192, 168, 26, n);
    let discover = |m: u8| bytes(&dhcp(MessageType::Discover, mac(m), &[]));
    let select = |m: u8, a: u8| {
        bytes(&dhcp(
            MessageType::Request,
            mac(m),
            &[
                DhcpOption::RequestedIpAddress(addr(a)),
                sid.clone(),
                DhcpOption::Hostname(format!("host{m}")),
            ],
        ))
    };
    let mut seeds = Seeds::new();
    let mut one = Vec::new();
    frame(&mut one, 0, &discover(1));
    // The pick is stable for a MAC; any address works as a start.
    frame(&mut one, 0, &select(1, 20));
    frame(&mut one, 0, &select(1, 21));
    seeds.push(("bind".into(), one.clone()));
    let mut restart = one.clone();
    frame(&mut restart, 3, &[]);
    frame(&mut restart, 0, &discover(1));
    seeds.push(("bind-restart".into(), restart));
    let mut expire = one.clone();
    frame(&mut expire, 2 + 4 * 16, &[]);
    frame(&mut expire, 0, &discover(2));
    seeds.push(("bind-expire".into(), expire));
    let mut decline = one.clone();
    frame(
        &mut decline,
        0,
        &bytes(&dhcp(
            MessageType::Decline,
            mac(1),
            &[DhcpOption::RequestedIpAddress(addr(20)), sid.clone()],
        )),
    );
    frame(&mut decline, 0, &discover(2));
    seeds.push(("decline".into(), decline));
    let mut release = one.clone();
    let mut rel = dhcp(MessageType::Release, mac(1), &[sid.clone()]);
    rel.set_ciaddr(addr(20));
    frame(&mut release, 0, &bytes(&rel));
    seeds.push(("release".into(), release));
    let mut exhaust = Vec::new();
    for m in 1..=12 {
        frame(&mut exhaust, 0, &discover(m));
        frame(&mut exhaust, 0, &select(m, 19 + m));
    }
    frame(&mut exhaust, 3, &[]);
    seeds.push(("exhaust".into(), exhaust));
    let mut reserved = Vec::new();
    frame(
        &mut reserved,
        0,
        &bytes(&dhcp(
            MessageType::Discover,
            [0x52, 0x54, 0, 0, 0, 0x99],
            &[],
        )),
    );
    frame(
        &mut reserved,
        0,
        &bytes(&dhcp(
            MessageType::Request,
            [0x52, 0x54, 0, 0, 0, 0x99],
            &[DhcpOption::RequestedIpAddress(addr(10)), sid.clone()],
        )),
    );
    frame(
        &mut reserved,
        0,
        &bytes(&dhcp(
            MessageType::Request,
            mac(7),
            &[DhcpOption::RequestedIpAddress(addr(10))],
        )),
    );
    seeds.push(("reservation".into(), reserved));
    for (name, packet) in dhcp4_requests() {
        let mut f = Vec::new();
        frame(&mut f, 0, &packet);
        seeds.push((format!("single-{name}"), f));
    }
    seeds
}

fn dhcp6_messages() -> Seeds {
    #[rustfmt::skip]
    let info: Vec<u8> = vec![
        11, 0x12, 0x34, 0x56,
        0, 1, 0, 14, 0, 1, 0, 1, 0x2c, 0x5a, 0x1b, 0x2a, 0x02, 0, 0, 0, 0, 0x09,
        0, 6, 0, 4, 0, 23, 0, 24,
        0, 8, 0, 2, 0, 0,
    ];
    let with = |t: u8, extra: &[u8]| {
        let mut m = info.clone();
        m[0] = t;
        m.extend_from_slice(extra);
        m
    };
    let ia_na = [0, 3, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    let our_id = [0, 2, 0, 10, 0, 3, 0, 1, 0x02, 0, 0, 0, 0, 0x01];
    let other_id = [0, 2, 0, 10, 0, 3, 0, 1, 9, 9, 9, 9, 9, 9];
    vec![
        ("information-request".into(), info.clone()),
        ("information-request-ours".into(), with(11, &our_id)),
        ("information-request-other".into(), with(11, &other_id)),
        ("information-request-ia".into(), with(11, &ia_na)),
        ("solicit".into(), with(1, &ia_na)),
        ("solicit-server-id".into(), with(1, &our_id)),
        (
            "solicit-no-client".into(),
            vec![1, 0, 0, 1, 0, 8, 0, 2, 0, 0],
        ),
        ("request".into(), with(3, &our_id)),
        ("renew".into(), with(5, &our_id)),
        ("status-code-short".into(), with(11, &[0, 13, 0, 0])),
        (
            "vendor-class".into(),
            with(11, &[0, 16, 0, 6, 0, 0, 0, 9, 0, 0]),
        ),
        ("relay-forward".into(), {
            let mut r = vec![12, 0];
            r.extend_from_slice(&[0; 32]);
            r.extend_from_slice(&[0, 9, 0, info.len() as u8]);
            r.extend_from_slice(&info);
            r
        }),
        ("truncated".into(), info[..info.len() - 1].to_vec()),
        ("header-only".into(), vec![11, 1, 2, 3]),
    ]
}

fn ra_messages() -> Seeds {
    let reference = RouterAdvertRepr {
        cur_hop_limit: 64,
        other_config: true,
        router_lifetime: 1800,
        source_lladdr: Some([0x02, 0, 0, 0, 0, 0x01]),
        mtu: Some(1500),
        prefixes: vec![PrefixInformation {
            prefix: "fd23::".parse().expect("a prefix"),
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            valid_lifetime: Lifetime(86_400),
            preferred_lifetime: Lifetime(86_400),
        }],
        rdnss: vec![RecursiveDnsServers {
            lifetime: Lifetime(1800),
            servers: vec!["fd23::1".parse().expect("an address")],
        }],
        dnssl: vec![DnsSearchList {
            lifetime: Lifetime(1800),
            domains: vec!["lan".into()],
        }],
        ..Default::default()
    };
    let mut rich = reference.clone();
    rich.managed = true;
    rich.preference = RouterPreference::High;
    rich.prefixes.push(PrefixInformation {
        prefix: "2001:db8:1::".parse().expect("a prefix"),
        prefix_len: 64,
        on_link: true,
        autonomous: false,
        valid_lifetime: Lifetime::INFINITY,
        preferred_lifetime: Lifetime(0),
    });
    rich.rdnss[0]
        .servers
        .push("fd23::53".parse().expect("an address"));
    rich.dnssl[0].domains.push("containers.example.org".into());
    let mut unknown = reference.emit();
    unknown.extend_from_slice(&[200, 1, 1, 2, 3, 4, 5, 6]);
    let withdraw = RouterAdvertRepr {
        router_lifetime: 0,
        ..reference.clone()
    };
    vec![
        ("ra-reference".into(), reference.emit()),
        ("ra-rich".into(), rich.emit()),
        ("ra-withdraw".into(), withdraw.emit()),
        ("ra-bare".into(), RouterAdvertRepr::default().emit()),
        ("ra-unknown-option".into(), unknown),
        (
            "rs-lladdr".into(),
            RouterSolicitRepr {
                source_lladdr: Some([2, 0, 0, 0, 0, 9]),
            }
            .emit(),
        ),
        (
            "rs-bare".into(),
            RouterSolicitRepr {
                source_lladdr: None,
            }
            .emit(),
        ),
        (
            "rs-zero-length-option".into(),
            vec![133, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
        ),
    ]
}

/// (name, qtype) pairs the resolver treats differently.
const QUESTIONS: [(&str, u16); 12] = [
    ("www.example.test", 1),
    ("www.example.test", 28),
    ("web", 1),
    ("web.lan", 28),
    ("nothere.lan", 1),
    ("printer.example", 1),
    ("9.9.9.10.in-addr.arpa", 12),
    ("20.26.168.192.in-addr.arpa", 12),
    ("x.blocked.test", 1),
    ("host.corp", 16),
    ("a.local.test", 1),
    ("example.test", 255),
];

fn dns_queries() -> Seeds {
    let mut seeds = Seeds::new();
    for (i, (name, qtype)) in QUESTIONS.iter().enumerate() {
        seeds.push((format!("q{i}"), query_bytes(0x4242, name, *qtype, None)));
        seeds.push((
            format!("q{i}-edns"),
            query_bytes(0x4243, name, *qtype, Some(1232)),
        ));
    }
    let mut dnssec = query_bytes(1, "example.test", 48, Some(4096));
    let at = dnssec.len() - 4;
    dnssec[at] = 0x80; // DO
    seeds.push(("dnssec-ok".into(), dnssec));
    let mut compressed = query_bytes(2, "a.b", 1, None);
    compressed.truncate(12);
    compressed.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
    seeds.push(("pointer-loop".into(), compressed));
    let mut notify = query_bytes(3, "example.test", 6, None);
    notify[2] = 0x20; // opcode NOTIFY
    seeds.push(("opcode-notify".into(), notify));
    let mut two = query_bytes(4, "example.test", 1, None);
    two[5] = 2;
    seeds.push(("two-questions".into(), two));
    seeds.push((
        "header-only".into(),
        vec![0, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ));
    seeds
}

fn dns_query_sequences() -> Seeds {
    let mut seeds = Seeds::new();
    for (i, (name, qtype)) in QUESTIONS.iter().enumerate() {
        let mut f = Vec::new();
        // From a client over UDP, again over TCP later, then from a stranger.
        frame(&mut f, 0, &query_bytes(0x4242, name, *qtype, Some(1232)));
        frame(
            &mut f,
            1 | (5 << 3),
            &query_bytes(0x4243, name, *qtype, None),
        );
        frame(&mut f, 4, &query_bytes(0x4244, name, *qtype, None));
        seeds.push((format!("seq{i}"), f));
    }
    let mut v6 = Vec::new();
    frame(&mut v6, 6, &query_bytes(9, "web.lan", 28, Some(512)));
    frame(&mut v6, 2, &query_bytes(10, "web.lan", 1, None));
    seeds.push(("v6-and-loopback".into(), v6));
    seeds
}

fn dns_forwards() -> Seeds {
    use RecordType::{A, AAAA, TXT};
    let mut seeds = Seeds::new();
    let cases: Vec<(&str, &str, RecordType, Vec<u8>)> = vec![
        (
            "a-answer",
            "www.example.test",
            A,
            reply(
                0xbeef,
                "www.example.test",
                A,
                ResponseCode::NoError,
                vec![a("www.example.test.", 300, [192, 0, 2, 1])],
                vec![],
            ),
        ),
        (
            "a-two-answers",
            "www.example.test",
            A,
            reply(
                0xbeef,
                "www.example.test",
                A,
                ResponseCode::NoError,
                vec![
                    a("www.example.test.", 300, [192, 0, 2, 1]),
                    a("www.example.test.", 60, [192, 0, 2, 2]),
                ],
                vec![],
            ),
        ),
        (
            "nxdomain-soa",
            "nothere.example.test",
            A,
            reply(
                0xbeef,
                "nothere.example.test",
                A,
                ResponseCode::NXDomain,
                vec![],
                vec![soa("example.test.", 3600, 300)],
            ),
        ),
        (
            "nodata",
            "www.example.test",
            AAAA,
            reply(
                0xbeef,
                "www.example.test",
                AAAA,
                ResponseCode::NoError,
                vec![],
                vec![soa("example.test.", 3600, 60)],
            ),
        ),
        (
            "txt-big-ttl",
            "t.example.test",
            TXT,
            reply(
                0xbeef,
                "t.example.test",
                TXT,
                ResponseCode::NoError,
                vec![txt("t.example.test.", u32::MAX, "hello")],
                vec![],
            ),
        ),
        (
            "servfail",
            "www.example.test",
            A,
            reply(
                0xbeef,
                "www.example.test",
                A,
                ResponseCode::ServFail,
                vec![],
                vec![],
            ),
        ),
        (
            "wrong-id",
            "www.example.test",
            A,
            reply(
                0x1111,
                "www.example.test",
                A,
                ResponseCode::NoError,
                vec![a("www.example.test.", 300, [192, 0, 2, 1])],
                vec![],
            ),
        ),
        (
            "other-name",
            "www.example.test",
            A,
            reply(
                0xbeef,
                "evil.example.test",
                A,
                ResponseCode::NoError,
                vec![a("evil.example.test.", 300, [192, 0, 2, 66])],
                vec![],
            ),
        ),
        (
            "routed-corp",
            "host.corp",
            A,
            reply(
                0xbeef,
                "host.corp",
                A,
                ResponseCode::NoError,
                vec![a("host.corp.", 30, [10, 1, 1, 9])],
                vec![],
            ),
        ),
    ];
    for (name, qname, qtype, answer) in cases {
        for tcp in [0u8, 1] {
            let mut f = Vec::new();
            frame(
                &mut f,
                tcp,
                &query_bytes(0x4242, qname, u16::from(qtype), Some(1232)),
            );
            frame(&mut f, 0, &answer);
            // The same reply late, after its TTL for short ones.
            frame(&mut f, 61, &answer);
            let mut truncated = answer.clone();
            truncated.truncate(answer.len() - 3);
            frame(&mut f, 1, &truncated);
            seeds.push((
                format!("{name}-{}", if tcp == 1 { "tcp" } else { "udp" }),
                f,
            ));
        }
    }
    seeds
}

fn lease_files() -> Seeds {
    let lines = [
        "1800000040 52:54:00:12:34:28 192.168.26.20 host40 01:52:54:00:12:34:28\n",
        "0 52:54:00:12:34:15 192.168.26.21 * *\n",
        "1764000000 52:54:00:aa:bb:cc 192.168.26.57 web 01:52:54:00:aa:bb:cc\n\
         duid 00:01:00:01:2c:4d:5e:6f:52:54:00:00:00:01\n\
         1764000000 1234567 fd23::57 web 00:01:00:01:2c:4d:5e:6f\n\
         1764000100 52:54:00:aa:bb:cd 192.168.26.58 * *\n",
        "garbage\n\n1764000000 52:54:00:aa:bb 192.168.26.5 * *\n",
        "soon 52:54:00:aa:bb:cc 192.168.26.5 * *\n",
        "1764000000 52:54:00:aa:bb:cc 192.168.26.500 * *\n",
        "1764000000 52:54:00:aa:bb:cc 192.168.26.5 * 01:zz\n",
        "18446744073709551615 52:54:00:aa:bb:cc 192.168.26.25 * *\n",
        "253402300799 52:54:00:aa:bb:cc 192.168.26.25 far *\n",
        "1900000000 52:54:00:aa:bb:01 192.168.26.5 web.evil.test *\n",
        "1900000000 52:54:00:aa:bb:02 192.168.26.6 My_Box$ *\n",
        "1900000000 52:54:00:00:00:99 192.168.26.10 db *\n",
        "1900000000 52:54:00:aa:bb:03 192.168.26.20 a *\n1900000000 52:54:00:aa:bb:04 192.168.26.20 b *\n",
        "1900000000 52:54:00:aa:bb:03 192.168.26.20 a 01:02\n1900000000 52:54:00:aa:bb:04 192.168.26.21 b 01:02\n",
    ];
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| (format!("leases{i}"), l.as_bytes().to_vec()))
        .collect()
}

/// Framed files for the journal target: tag 0 the snapshot, 1 and 2 the
/// slots, 3 the dnsmasq-format file to import; tag | 4 keeps a file's
/// checksums as they are.
fn journals() -> Seeds {
    let rec = |n: u8, expires: u64| LeaseRecord {
        expires,
        mac: mac(n),
        addr: Ipv4Addr::new(192, 168, 26, 19 + n),
        hostname: Some(format!("host{n}")),
        client_id: (n % 2 == 0).then(|| vec![1, 0x52, 0x54, 0, 0x12, 0x34, n]),
    };
    let slot = |generation: u64, changes: &[Change]| {
        let mut b = journal_header(generation).to_vec();
        for c in changes {
            encode_change(generation, c, &mut b);
        }
        b
    };
    let files = |parts: &[(u8, Vec<u8>)]| {
        let mut out = Vec::new();
        for (tag, body) in parts {
            frame(&mut out, *tag, body);
        }
        out
    };
    let snapshot = encode_snapshot(3, &[rec(1, 1_900_000_000), rec(2, 0)]);
    let changes = [
        Change::Put(rec(3, 1_900_000_100)),
        Change::Remove(Ipv4Addr::new(192, 168, 26, 20)),
        Change::Put(rec(2, 1_900_000_200)),
    ];
    let active = slot(3, &changes);
    let mut torn = active.clone();
    torn.truncate(active.len() - 5);
    let mut zeros = active.clone();
    zeros.extend_from_slice(&[0; 64]);
    let lease_file = b"1900000000 52:54:00:12:34:05 192.168.26.24 imported *\n".to_vec();
    vec![
        (
            "clean".into(),
            files(&[(0, snapshot.clone()), (1, slot(3, &[]))]),
        ),
        (
            "replay".into(),
            files(&[(0, snapshot.clone()), (1, active.clone())]),
        ),
        (
            "two-slots".into(),
            files(&[
                (0, snapshot.clone()),
                (1, active.clone()),
                (2, slot(4, &changes[..1])),
            ]),
        ),
        (
            "stale-slot".into(),
            files(&[(0, snapshot.clone()), (2, slot(2, &changes))]),
        ),
        (
            "torn".into(),
            files(&[(0, snapshot.clone()), (1 | 4, torn)]),
        ),
        (
            "zero-tail".into(),
            files(&[(0, snapshot.clone()), (1, zeros)]),
        ),
        ("import".into(), files(&[(3, lease_file.clone())])),
        (
            "import-and-slot".into(),
            files(&[(3, lease_file), (1, active)]),
        ),
        (
            "bad-snapshot".into(),
            files(&[(4, snapshot[..20].to_vec())]),
        ),
    ]
}

fn config_files() -> Seeds {
    let mut seeds: Seeds = vec![
        (
            "dnsmasq-nat0.conf".into(),
            fs::read("../config/dnsmasq-nat0.conf").expect("config/dnsmasq-nat0.conf"),
        ),
        (
            "nspawn-netd.toml".into(),
            fs::read("../config/nspawn-netd.toml").expect("config/nspawn-netd.toml"),
        ),
    ];
    let snippets = [
        "interface=nat0\ndhcp-range=192.168.26.20,192.168.26.100,12h\n",
        "# comment\n\n  port = 5353  \nno-resolv\nserver=/corp/10.1.1.1#5353\n",
        "dhcp-host=52:54:00:00:00:99,192.168.26.10,db,infinite\n",
        "address=/blocked.test/\naddress=/ads.test/0.0.0.0\n",
        "dhcp-range=fd23::,ra-stateless,ra-names\nenable-ra\nra-param=nat0,mtu:1280,high,30,600\n",
        "cache-size=0\nno-negcache\nstrict-order\n",
        "bogus-option=1\n",
        "interface\n",
        "log-dhcp=yes\n",
        "interface = \"nat0\"\nport = 53\ndhcp-range = [\"192.168.26.20,192.168.26.100,12h\"]\n",
        "interface = \"nat0\"\nlog-queries = true\ncache-size = 100\n",
        "[table]\nx = 1\n",
        "interface = 1.5\n",
    ];
    for (i, s) in snippets.iter().enumerate() {
        seeds.push((format!("snippet{i}"), s.as_bytes().to_vec()));
    }
    seeds
}

fn option_values() -> Seeds {
    let values: [(u8, &str); 24] = [
        (0, "192.168.26.20,192.168.26.100,12h"),
        (0, "192.168.26.20-100"),
        (
            0,
            "192.168.26.20,192.168.26.100,255.255.255.0,192.168.26.255,45m",
        ),
        (0, "192.168.26.20,192.168.26.100,infinite"),
        (1, "52:54:00:00:00:99,192.168.26.10,db,infinite"),
        (1, "52:54:00:00:00:99,192.168.26.10"),
        (2, "10.0.0.1#5353"),
        (2, "/corp/10.1.1.1"),
        (2, "/local.test/"),
        (2, "/corp/#"),
        (2, "fd00::1#53"),
        (3, "/blocked.test/"),
        (3, "/ads.test/0.0.0.0"),
        (3, "/x.test/#"),
        (4, "nat0,mtu:1280,high,30,600"),
        (4, "nat0,mtu:off,low,600"),
        (5, "/var/lib/misc/leases"),
        (6, "fd23::/64,ra-stateless,ra-names"),
        (6, "::,constructor:nat0,ra-stateless,12h"),
        (7, "12h"),
        (7, "3600"),
        (8, "[fd00::1]:53"),
        (8, "192.0.2.1#53"),
        (9, "52:54:00:aa:bb:cc"),
    ];
    values
        .iter()
        .enumerate()
        .map(|(i, (which, v))| {
            let mut b = vec![*which];
            b.extend_from_slice(v.as_bytes());
            (format!("value{i}"), b)
        })
        .collect()
}

fn nft_messages() -> Seeds {
    let nat0 = BridgeConfig::default_nat0();
    let mut allow = BridgeConfig::default_nat0();
    allow.inbound = Inbound::Allow;
    let mut v4_only = BridgeConfig::default_nat0();
    v4_only.ipv6 = None;
    let mut seeds = Seeds::new();
    for (name, cfg) in [("nat0", &nat0), ("allow", &allow), ("v4", &v4_only)] {
        let b = batch::replace_table(&cfg.ruleset(), 100);
        seeds.push((format!("replace-{name}"), b.bytes.clone()));
        // Each message alone too: a dump answer holds the same messages.
        let mut rest = &b.bytes[..];
        let mut i = 0;
        while rest.len() >= 16 {
            let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            if len < 16 || len > rest.len() {
                break;
            }
            if name == "nat0" {
                seeds.push((format!("message-{name}-{i}"), rest[..len].to_vec()));
            }
            rest = &rest[(len + 3) & !3..];
            i += 1;
        }
    }
    seeds.push((
        "delete".into(),
        batch::delete_table("nspawn_netd_nat0", 7).bytes,
    ));
    seeds.push((
        "dump-rules".into(),
        batch::dump_request(batch::get_rules_of("nspawn_netd_nat0"), true, 9),
    ));
    seeds.push(("newgen".into(), newgen(4242)));
    let mut transaction = notification(2, 1, &[nla(1, b"nspawn_netd_nat0\0")], 0);
    transaction.extend(newgen(77));
    seeds.push(("deltable-then-newgen".into(), transaction));
    seeds
}

/// A netlink attribute (native byte order, padded to 4).
fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
    let mut v = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(value);
    v.resize((v.len() + 3) & !3, 0);
    v
}

/// An nf_tables notification: nlmsghdr, nfgenmsg, attributes.
fn notification(msg_type: u8, family: u8, attrs: &[Vec<u8>], port: u32) -> Vec<u8> {
    let body: Vec<u8> = [family, 0, 0, 7]
        .into_iter()
        .chain(attrs.iter().flatten().copied())
        .collect();
    let mut v = ((16 + body.len()) as u32).to_ne_bytes().to_vec();
    v.extend_from_slice(&((10u16 << 8) | u16::from(msg_type)).to_ne_bytes());
    v.extend_from_slice(&[0; 6]);
    v.extend_from_slice(&port.to_ne_bytes());
    v.extend(body);
    v
}

/// `NFT_MSG_NEWGEN` with the generation, the pid and the name of who made it.
fn newgen(pid: u32) -> Vec<u8> {
    notification(
        15,
        0,
        &[
            nla(1, &7u32.to_be_bytes()),
            nla(2, &pid.to_be_bytes()),
            nla(3, b"nft\0"),
        ],
        0,
    )
}
