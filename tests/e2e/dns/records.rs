//! Local records and CHAOS names, asked with `dig` from a container; the
//! same options given to dnsmasq must give the same answers.

use netd_testkit::lab::{Daemon, Lab, Netns};

use super::{dig, status};

/// The records every run declares, in dnsmasq's syntax.
const RECORDS: &[&str] = &[
    "--domain=lan",
    "--local=/lan/",
    "--local-ttl=60",
    "--cache-size=321",
    "--host-record=nas.lan,nas,192.168.26.5,fd23::5,300",
    "--cname=www.lan,nas.lan",
    "--cname=site.lan,www.lan,90",
    "--txt-record=info.lan,v=spf1 -all,two parts",
    "--srv-host=_ldap._tcp.lan,nas.lan,389,10,5",
    "--ptr-record=_http._tcp.lan,web._http._tcp.lan",
    "--mx-host=lan,nas.lan,20",
    "--interface-name=gw.lan,nat0/4",
    "--interface-name=loop.lan,lo/4",
    "--interface-name=none.lan,nosuch0",
];

/// Queries whose answer sections must match between the two servers.
const QUERIES: &[&[&str]] = &[
    &["nas.lan", "A"],
    &["nas", "AAAA"],
    &["-x", "192.168.26.5"],
    &["www.lan", "A"],
    &["site.lan", "A"],
    &["info.lan", "TXT"],
    &["_ldap._tcp.lan", "SRV"],
    &["_http._tcp.lan", "PTR"],
    &["lan", "MX"],
    &["gw.lan", "A"],
    &["-x", "192.168.26.1"],
    &["-c", "CH", "-t", "TXT", "cachesize.bind"],
    &["printer.lan", "A"],
    &["printer", "A"],
    &["-x", "192.168.26.7"],
    &["scanner.office", "A"],
    &["loop.lan", "A"],
];

/// Queries whose status must match: (name, type).
const STATUS_QUERIES: &[[&str; 2]] = &[
    ["info.lan", "A"],
    ["nas.lan", "MX"],
    ["missing.lan", "A"],
    ["www.lan", "TXT"],
    ["gw.lan", "AAAA"],
    ["none.lan", "A"],
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Server {
    NspawnNetd,
    Dnsmasq,
}

fn start(lab: &mut Lab, server: Server, extra: &[&str]) -> Daemon {
    let pid = lab.dir().join(format!("{server:?}.pid"));
    let pid = format!("--pid-file={}", pid.display());
    let mut args = vec![
        "--interface=nat0",
        "--listen-address=192.168.26.1",
        "--no-hosts",
        "--no-resolv",
        "--server=203.0.113.2",
        &pid,
    ];
    let hosts = lab.dir().join("more-hosts");
    std::fs::write(
        &hosts,
        "192.168.26.7 printer\n192.168.26.8 scanner.office\n",
    )
    .unwrap();
    let hosts = format!("--addn-hosts={}", hosts.display());
    args.extend([hosts.as_str(), "--expand-hosts"]);
    args.extend_from_slice(RECORDS);
    args.extend_from_slice(extra);
    match server {
        Server::NspawnNetd => lab.start_daemon(&args),
        Server::Dnsmasq => {
            args.extend([
                "--conf-file=/dev/null",
                "--keep-in-foreground",
                "--user=root",
                "--log-facility=-",
                "--bind-interfaces",
            ]);
            lab.spawn_server("dnsmasq", &args, "started, version")
        }
    }
}

/// The answer section, one record a line, fields split on blanks, sorted.
fn answer(c: &Netns, q: &[&str]) -> Vec<String> {
    let mut args = vec!["+noall", "+answer"];
    args.extend_from_slice(q);
    let mut lines: Vec<String> = dig(c, "192.168.26.1", &args)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort();
    lines
}

fn lab() -> (Lab, Netns) {
    let mut lab = Lab::new();
    let c = lab.container("a");
    c.add_host0_addr("192.168.26.50/24");
    (lab, c)
}

fn answers_of(server: Server) -> Vec<Vec<String>> {
    let (mut lab, c) = lab();
    let d = start(&mut lab, server, &[]);
    let mut got: Vec<Vec<String>> = QUERIES.iter().map(|q| answer(&c, q)).collect();
    // Names that are ours without the type asked, or not there at all.
    for q in STATUS_QUERIES {
        let mut args = vec!["-t", q[1], q[0]];
        args.insert(0, "+noall");
        args.insert(1, "+comments");
        got.push(vec![status(&dig(&c, "192.168.26.1", &args)).to_owned()]);
    }
    assert!(
        !got[0].is_empty(),
        "{server:?} gave no answer:\n{}",
        d.log_text()
    );
    got
}

#[test]
fn each_record_type_answers_as_declared() {
    let (mut lab, c) = lab();
    let d = start(&mut lab, Server::NspawnNetd, &[]);
    let expect: &[(&[&str], &[&str])] = &[
        (&["nas.lan", "A"], &["nas.lan. 300 IN A 192.168.26.5"]),
        (&["nas", "AAAA"], &["nas. 300 IN AAAA fd23::5"]),
        (
            &["-x", "192.168.26.5"],
            &["5.26.168.192.in-addr.arpa. 300 IN PTR nas.lan."],
        ),
        (
            &["site.lan", "A"],
            &[
                "nas.lan. 300 IN A 192.168.26.5",
                "site.lan. 90 IN CNAME www.lan.",
                "www.lan. 60 IN CNAME nas.lan.",
            ],
        ),
        (
            &["info.lan", "TXT"],
            &["info.lan. 60 IN TXT \"v=spf1 -all\" \"two parts\""],
        ),
        (
            &["_ldap._tcp.lan", "SRV"],
            &["_ldap._tcp.lan. 60 IN SRV 10 5 389 nas.lan."],
        ),
        (
            &["_http._tcp.lan", "PTR"],
            &["_http._tcp.lan. 60 IN PTR web._http._tcp.lan."],
        ),
        (&["lan", "MX"], &["lan. 60 IN MX 20 nas.lan."]),
        (&["gw.lan", "A"], &["gw.lan. 60 IN A 192.168.26.1"]),
        (&["loop.lan", "A"], &["loop.lan. 60 IN A 127.0.0.1"]),
        (&["none.lan", "A"], &[]),
        (
            &["-x", "192.168.26.1"],
            &["1.26.168.192.in-addr.arpa. 60 IN PTR gw.lan."],
        ),
        (
            &["-c", "CH", "-t", "TXT", "cachesize.bind"],
            &["cachesize.bind. 0 CH TXT \"321\""],
        ),
    ];
    for (q, want) in expect {
        let raw = dig(&c, "192.168.26.1", q);
        assert_eq!(answer(&c, q), *want, "{q:?}\n{raw}\n{}", d.log_text());
    }
    let out = dig(&c, "192.168.26.1", &["missing.lan", "A"]);
    assert_eq!(status(&out), "NXDOMAIN", "--local=/lan/: {out}");
    let out = dig(
        &c,
        "192.168.26.1",
        &["+short", "-c", "CH", "-t", "TXT", "version.bind"],
    );
    assert_eq!(
        out.trim(),
        format!("\"nspawn-netd-{}\"", env!("CARGO_PKG_VERSION"))
    );
    // Asked once more, then counted: hits and misses are real counters.
    let out = dig(
        &c,
        "192.168.26.1",
        &["+short", "-c", "CH", "-t", "TXT", "misses.bind"],
    );
    assert_eq!(out.trim(), "\"0\"", "nothing went upstream");
    let out = dig(
        &c,
        "192.168.26.1",
        &["+short", "-c", "CH", "-t", "TXT", "servers.bind"],
    );
    assert!(out.contains("203.0.113.2#53"), "{out}");
}

#[test]
fn dnsmasq_as_reference_gives_the_same_answers() {
    let ours = answers_of(Server::NspawnNetd);
    let reference = answers_of(Server::Dnsmasq);
    let asked: Vec<Vec<&str>> = QUERIES
        .iter()
        .map(|q| q.to_vec())
        .chain(STATUS_QUERIES.iter().map(|q| q.to_vec()))
        .collect();
    for ((q, a), b) in asked.iter().zip(&ours).zip(&reference) {
        assert_eq!(a, b, "{q:?}: nspawn-netd, then dnsmasq");
    }
}

#[test]
fn unanswered_chaos_names_get_the_status_dnsmasq_gives() {
    let mut statuses = Vec::new();
    for server in [Server::NspawnNetd, Server::Dnsmasq] {
        for extra in [&[][..], &["--no-ident"][..]] {
            let (mut lab, c) = lab();
            let _d = start(&mut lab, server, extra);
            let ask = |name| {
                status(&dig(&c, "192.168.26.1", &["-c", "CH", "-t", "TXT", name])).to_owned()
            };
            statuses.push((
                server,
                extra.len(),
                ask("version.bind"),
                ask("nothing.bind"),
            ));
        }
    }
    let ours: Vec<_> = statuses[..2].iter().map(|s| (s.1, &s.2, &s.3)).collect();
    let reference: Vec<_> = statuses[2..].iter().map(|s| (s.1, &s.2, &s.3)).collect();
    assert_eq!(ours, reference, "nspawn-netd, then dnsmasq");
    assert_eq!(statuses[1].2, "NOTIMP", "--no-ident: {statuses:?}");
}
