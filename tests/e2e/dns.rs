//! The DNS forwarder end to end: nsd serves a test zone in the "internet"
//! namespace, nspawn-netd forwards for the bridge, and `dig` asks from
//! container namespaces.

use std::path::Path;
use std::time::{Duration, Instant};

use netd_testkit::lab::{Lab, Netns, wait_until};
use netd_testkit::nsd::Nsd;

mod limits;
mod records;

/// The zone nsd serves. `who` has TTL 0 (never cached) and says which
/// server answered; `short` lives 3 seconds; `*.wild` answers any name.
fn zone(server: &str) -> String {
    format!(
        "$ORIGIN e2e.test.\n$TTL 300\n\
         @ IN SOA ns admin 1 3600 600 86400 30\n\
         @ IN NS ns\n\
         ns IN A 203.0.113.2\n\
         www IN A 198.51.100.1\n\
         www IN AAAA 2001:db8:100::1\n\
         www IN MX 10 mail\n\
         who 0 IN TXT \"{server}\"\n\
         short 3 IN A 198.51.100.3\n\
         *.wild IN A 198.51.100.9\n\
         {}",
        big_records()
    )
}

/// `mid` (about 700 bytes: over 512, under 1232) and `huge` (about 2400
/// bytes: over what UDP carries with EDNS0 at 1232) TXT sets.
fn big_records() -> String {
    let mut z = String::new();
    for i in 0..10 {
        z.push_str(&format!("mid IN TXT \"{i:02}-{}\"\n", "m".repeat(60)));
    }
    for i in 0..30 {
        z.push_str(&format!("huge IN TXT \"{i:02}-{}\"\n", "h".repeat(70)));
    }
    z
}

/// nsd answering `e2e.test` on `ip` of the internet namespace; `label`
/// says which server answered (the `who` TXT record).
fn start_nsd(inet: &Netns, lab_dir: &Path, ip: &str, label: &str) -> Nsd {
    Nsd::start(
        inet,
        lab_dir,
        ip,
        "e2e.test",
        &zone(label),
        "www.e2e.test",
        None,
    )
}

/// `dig @server ARGS` in `ns`; returns stdout.
fn dig(ns: &Netns, server: &str, args: &[&str]) -> String {
    let mut argv = vec!["dig", "+tries=1", "+timeout=2"];
    let at = format!("@{server}");
    argv.push(&at);
    argv.extend_from_slice(args);
    String::from_utf8_lossy(&ns.run(&argv).stdout).into_owned()
}

fn status(out: &str) -> &str {
    out.split("status: ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap_or("<no reply>")
}

/// A lab with an nsd upstream at 203.0.113.2 named by the host's
/// resolv.conf, and a container at 192.168.26.50.
fn lab_with_upstream() -> (Lab, Netns, Netns, Nsd) {
    let mut lab = Lab::new();
    let inet = lab.internet();
    let nsd = start_nsd(&inet, lab.dir(), "203.0.113.2", "one");
    lab.host().set_resolv_conf("nameserver 203.0.113.2\n");
    let c = lab.container("a");
    c.add_host0_addr("192.168.26.50/24");
    (lab, inet, c, nsd)
}

#[test]
fn resolves_over_udp_and_tcp_and_passes_nxdomain_through() {
    let (mut lab, _inet, c, _nsd) = lab_with_upstream();
    let d = lab.start_daemon(&["--interface=nat0", "--no-hosts"]);
    let out = dig(&c, "192.168.26.1", &["+short", "www.e2e.test", "A"]);
    assert_eq!(out.trim(), "198.51.100.1", "{}", d.log_text());
    let out = dig(
        &c,
        "192.168.26.1",
        &["+tcp", "+short", "www.e2e.test", "AAAA"],
    );
    assert_eq!(out.trim(), "2001:db8:100::1");
    let out = dig(&c, "192.168.26.1", &["+short", "www.e2e.test", "MX"]);
    assert_eq!(out.trim(), "10 mail.e2e.test.");
    // Asked again: from the cache, TTL counted down from 300.
    let out = dig(
        &c,
        "192.168.26.1",
        &["+noall", "+answer", "www.e2e.test", "MX"],
    );
    assert!(out.contains("mail.e2e.test."), "{out}");
    let out = dig(&c, "192.168.26.1", &["nope.e2e.test", "A"]);
    assert_eq!(status(&out), "NXDOMAIN", "{out}");
    assert!(out.contains("SOA"), "the SOA comes with NXDOMAIN: {out}");
    let out = dig(&c, "192.168.26.1", &["+tcp", "nope.e2e.test", "A"]);
    assert_eq!(status(&out), "NXDOMAIN", "{out}");
    // Single-label names and private reverse names stay local.
    let out = dig(&c, "192.168.26.1", &["intranet", "A"]);
    assert_eq!(status(&out), "NXDOMAIN", "{out}");
    let log = d.log_text();
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn a_query_from_outside_the_bridge_is_refused() {
    let (mut lab, inet, c, _nsd) = lab_with_upstream();
    let d = lab.start_daemon(&["--interface=nat0", "--listen-address=203.0.113.1"]);
    let out = dig(&inet, "203.0.113.1", &["www.e2e.test", "A"]);
    assert_eq!(status(&out), "REFUSED", "{out}\n{}", d.log_text());
    let out = dig(&inet, "203.0.113.1", &["+tcp", "www.e2e.test", "A"]);
    assert_eq!(status(&out), "REFUSED", "{out}");
    // The same daemon answers its own clients on that address.
    let out = dig(&c, "192.168.26.1", &["+short", "www.e2e.test"]);
    assert_eq!(out.trim(), "198.51.100.1");
}

#[test]
fn a_rewritten_resolv_conf_takes_effect_without_restart() {
    let (mut lab, inet, c, _one) = lab_with_upstream();
    inet.run_ok(&["ip", "addr", "add", "203.0.113.3/24", "dev", "eth0"]);
    let _two = start_nsd(&inet, lab.dir(), "203.0.113.3", "two");
    let d = lab.start_daemon(&["--interface=nat0"]);
    let out = dig(&c, "192.168.26.1", &["+short", "who.e2e.test", "TXT"]);
    assert_eq!(out.trim(), "\"one\"", "{}", d.log_text());
    // Rewritten in place (the daemon's /etc/resolv.conf is a bind mount of
    // this file). Within 2 s: sooner than the 5 s stat poll, so inotify saw it.
    lab.host().set_resolv_conf("nameserver 203.0.113.3\n");
    let switched = wait_until(Duration::from_secs(2), || {
        dig(&c, "192.168.26.1", &["+short", "who.e2e.test", "TXT"]).trim() == "\"two\""
    });
    assert!(switched, "still asking the first server:\n{}", d.log_text());
}

#[test]
fn killing_the_first_of_two_upstreams_keeps_answers_within_a_second() {
    let (mut lab, inet, c, mut one) = lab_with_upstream();
    inet.run_ok(&["ip", "addr", "add", "203.0.113.3/24", "dev", "eth0"]);
    let _two = start_nsd(&inet, lab.dir(), "203.0.113.3", "two");
    lab.host()
        .set_resolv_conf("nameserver 203.0.113.2\nnameserver 203.0.113.3\n");
    let d = lab.start_daemon(&["--interface=nat0"]);
    let out = dig(&c, "192.168.26.1", &["+short", "n0.wild.e2e.test"]);
    assert_eq!(out.trim(), "198.51.100.9", "{}", d.log_text());
    one.stop();
    for n in 1..6 {
        let started = Instant::now();
        let name = format!("n{n}.wild.e2e.test");
        let out = dig(&c, "192.168.26.1", &["+short", &name]);
        let took = started.elapsed();
        assert_eq!(out.trim(), "198.51.100.9", "query {n}:\n{}", d.log_text());
        assert!(took < Duration::from_secs(1), "query {n} took {took:?}");
    }
}

#[test]
fn the_cache_answers_after_the_upstream_stops_until_the_ttl_runs_out() {
    let (mut lab, _inet, c, mut nsd) = lab_with_upstream();
    let d = lab.start_daemon(&["--interface=nat0"]);
    let out = dig(&c, "192.168.26.1", &["+short", "short.e2e.test"]);
    assert_eq!(out.trim(), "198.51.100.3", "{}", d.log_text());
    let cached_at = Instant::now();
    nsd.stop();
    let out = dig(&c, "192.168.26.1", &["+noall", "+answer", "short.e2e.test"]);
    assert!(
        out.contains("198.51.100.3"),
        "not answered from the cache: {out}"
    );
    let ttl: u32 = out
        .split_whitespace()
        .nth(1)
        .and_then(|t| t.parse().ok())
        .unwrap();
    assert!(ttl <= 3, "TTL {ttl}");
    std::thread::sleep(
        Duration::from_secs(3).saturating_sub(cached_at.elapsed()) + Duration::from_millis(500),
    );
    let out = dig(&c, "192.168.26.1", &["short.e2e.test"]);
    assert_eq!(status(&out), "SERVFAIL", "{out}");
}

#[test]
fn a_containers_dhcp_hostname_resolves_from_another_container() {
    let (mut lab, _inet, _c, _nsd) = lab_with_upstream();
    let d = lab.start_daemon(&["--interface=nat0", "--dhcp-range=192.168.26.20-100"]);
    let alpha = lab.container("alpha");
    let out = alpha.run(&[
        "udhcpc",
        "-i",
        "host0",
        "-n",
        "-q",
        "-f",
        "-t",
        "5",
        "-T",
        "1",
        "-x",
        "hostname:alpha",
        "-s",
        "/bin/true",
    ]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let leased = text
        .split("lease of ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("udhcpc got no lease:\n{text}\n{}", d.log_text()))
        .to_owned();
    let beta = lab.container("beta");
    beta.add_host0_addr("192.168.26.51/24");
    let out = dig(&beta, "192.168.26.1", &["+short", "alpha", "A"]);
    assert_eq!(out.trim(), leased, "{}", d.log_text());
    let out = dig(&beta, "192.168.26.1", &["+short", "-x", &leased]);
    assert_eq!(out.trim(), "alpha.", "{}", d.log_text());
}

#[test]
fn answers_too_big_for_udp_set_tc_and_come_whole_over_tcp() {
    let (mut lab, _inet, c, _nsd) = lab_with_upstream();
    let d = lab.start_daemon(&["--interface=nat0"]);
    // Over 512 bytes: a client without EDNS gets TC, one with EDNS0 all.
    let out = dig(
        &c,
        "192.168.26.1",
        &["+noedns", "+ignore", "mid.e2e.test", "TXT"],
    );
    assert!(out.contains(" tc"), "no TC flag: {out}\n{}", d.log_text());
    let out = dig(&c, "192.168.26.1", &["+short", "mid.e2e.test", "TXT"]);
    assert_eq!(out.lines().count(), 10, "{out}");
    // Over 1232 bytes: TC over UDP; over TCP we ask upstream over TCP too.
    let out = dig(&c, "192.168.26.1", &["+ignore", "huge.e2e.test", "TXT"]);
    assert!(out.contains(" tc"), "no TC flag: {out}");
    let out = dig(
        &c,
        "192.168.26.1",
        &["+tcp", "+short", "huge.e2e.test", "TXT"],
    );
    assert_eq!(out.lines().count(), 30, "{out}\n{}", d.log_text());
}

#[test]
fn sighup_clears_the_cache() {
    let (mut lab, _inet, c, mut nsd) = lab_with_upstream();
    let d = lab.start_daemon(&["--interface=nat0"]);
    let out = dig(&c, "192.168.26.1", &["+short", "www.e2e.test"]);
    assert_eq!(out.trim(), "198.51.100.1", "{}", d.log_text());
    nsd.stop();
    let out = dig(&c, "192.168.26.1", &["+short", "www.e2e.test"]);
    assert_eq!(out.trim(), "198.51.100.1", "cached");
    d.signal(libc::SIGHUP);
    assert!(
        d.wait_for_log("cache cleared", Duration::from_secs(5)),
        "{}",
        d.log_text()
    );
    let out = dig(&c, "192.168.26.1", &["www.e2e.test"]);
    assert_eq!(status(&out), "SERVFAIL", "{out}");
}

#[test]
fn answers_over_ipv6_and_binds_an_address_that_comes_up_later() {
    let (mut lab, _inet, c, _nsd) = lab_with_upstream();
    lab.add_ipv6();
    c.add_host0_addr("fd23::50/64");
    // 192.168.26.2 is not on nat0 yet: IP_FREEBIND lets the daemon bind it.
    let d = lab.start_daemon(&["--interface=nat0", "--listen-address=192.168.26.2"]);
    let out = dig(&c, "fd23::1", &["+short", "www.e2e.test", "AAAA"]);
    assert_eq!(out.trim(), "2001:db8:100::1", "{}", d.log_text());
    let out = dig(&c, "fd23::1", &["+tcp", "+short", "www.e2e.test"]);
    assert_eq!(out.trim(), "198.51.100.1");
    lab.host()
        .run_ok(&["ip", "addr", "add", "192.168.26.2/24", "dev", "nat0"]);
    let out = dig(&c, "192.168.26.2", &["+short", "www.e2e.test"]);
    assert_eq!(out.trim(), "198.51.100.1", "{}", d.log_text());
}

#[test]
fn domain_servers_address_rules_and_hosts_files_answer_as_configured() {
    let (mut lab, inet, c, _one) = lab_with_upstream();
    inet.run_ok(&["ip", "addr", "add", "203.0.113.3/24", "dev", "eth0"]);
    let _two = start_nsd(&inet, lab.dir(), "203.0.113.3", "two");
    let hosts = lab.dir().join("extra-hosts");
    std::fs::write(&hosts, "10.7.7.7 printer.office\n").unwrap();
    let hosts_arg = format!("--addn-hosts={}", hosts.display());
    let d = lab.start_daemon(&[
        "--interface=nat0",
        "--no-hosts",
        &hosts_arg,
        "--server=/e2e.test/203.0.113.3",
        "--address=/blocked.test/10.1.2.3",
    ]);
    // The domain's own server, not resolv.conf's.
    let out = dig(&c, "192.168.26.1", &["+short", "who.e2e.test", "TXT"]);
    assert_eq!(out.trim(), "\"two\"", "{}", d.log_text());
    let out = dig(&c, "192.168.26.1", &["+short", "ads.blocked.test"]);
    assert_eq!(out.trim(), "10.1.2.3");
    let out = dig(&c, "192.168.26.1", &["+short", "printer.office"]);
    assert_eq!(out.trim(), "10.7.7.7");
    let out = dig(&c, "192.168.26.1", &["+short", "-x", "10.7.7.7"]);
    assert_eq!(out.trim(), "printer.office.");
    // SIGHUP re-reads the hosts file.
    std::fs::write(&hosts, "10.7.7.8 printer.office\n").unwrap();
    d.signal(libc::SIGHUP);
    assert!(d.wait_for_log("cache cleared", Duration::from_secs(5)));
    let out = dig(&c, "192.168.26.1", &["+short", "printer.office"]);
    assert_eq!(out.trim(), "10.7.7.8", "{}", d.log_text());
}
