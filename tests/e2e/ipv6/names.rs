//! `ra-names` through DNS: a container with a DHCPv4 lease carrying a
//! hostname answers AAAA (and PTR) for its SLAAC address, whether that is
//! EUI-64 or stable-privacy, asked over IPv6 at fd23::1.

use std::time::Duration;

use super::{AddrGen, SEED_RANGE, slaac_address, slaac_container};
use netd_testkit::lab::{Lab, Netns, wait_until};

/// A DHCPv4 lease for `host0` carrying `hostname` (busybox udhcpc; the
/// script does nothing, only the server's lease matters here).
fn lease_with_hostname(c: &Netns, hostname: &str) {
    let out = c.run(&[
        "udhcpc",
        "-i",
        "host0",
        "-q",
        "-n",
        "-t",
        "5",
        "-T",
        "1",
        "-s",
        "/bin/true",
        "-x",
        &format!("hostname:{hostname}"),
    ]);
    assert!(
        out.status.success(),
        "udhcpc got no DHCPv4 lease for {hostname}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn dig(c: &Netns, args: &[&str]) -> String {
    let mut argv = vec!["dig", "+short", "+time=1", "+tries=1", "@fd23::1"];
    argv.extend_from_slice(args);
    String::from_utf8_lossy(&c.run(&argv).stdout)
        .trim()
        .to_owned()
}

#[test]
fn dig_aaaa_answers_eui64_and_stable_privacy_containers() {
    let mut lab = Lab::new();
    lab.add_ipv6();
    let web = slaac_container(&mut lab, "w", AddrGen::Eui64);
    let db = slaac_container(&mut lab, "b", AddrGen::StablePrivacy);
    let daemon = lab.start_daemon(&[
        "--interface=nat0",
        "--dhcp-range=192.168.26.20-100",
        SEED_RANGE,
        "--domain=lan",
    ]);
    for (c, name) in [(&web, "web"), (&db, "db")] {
        lease_with_hostname(c, name);
        let addr = slaac_address(c);
        let fqdn = format!("{name}.lan");
        let mut last = String::new();
        let answered = wait_until(Duration::from_secs(40), || {
            last = dig(c, &["AAAA", &fqdn]);
            last.lines().any(|l| l == addr)
        });
        assert!(
            answered,
            "dig AAAA {fqdn} @fd23::1 gave {last:?}, want {addr}\n{}",
            daemon.log_text()
        );
        assert!(
            dig(c, &["AAAA", name]).lines().any(|l| l == addr),
            "bare name {name}"
        );
        let ptr = dig(c, &["-x", &addr]);
        assert_eq!(ptr, format!("{fqdn}."), "PTR of {addr}");
    }
}

/// A container forges a neighbour solicitation: source fd23::dead:beef,
/// link-layer address the MAC of the container that holds `web`. The
/// host's kernel notes the address under that MAC, but our probe of it goes
/// to `web`, which does not own it: the forged address never reaches DNS.
#[test]
fn a_forged_neighbour_entry_never_reaches_dns() {
    let mut lab = Lab::new();
    lab.add_ipv6();
    let web = slaac_container(&mut lab, "w", AddrGen::Eui64);
    let attacker = slaac_container(&mut lab, "x", AddrGen::Eui64);
    let daemon = lab.start_daemon(&[
        "--interface=nat0",
        "--dhcp-range=192.168.26.20-100",
        SEED_RANGE,
        "--domain=lan",
    ]);
    lease_with_hostname(&web, "web");
    let addr = slaac_address(&web);
    assert!(
        wait_until(Duration::from_secs(10), || {
            dig(&web, &["AAAA", "web.lan"]).lines().any(|l| l == addr)
        }),
        "web.lan never answered {addr}:\n{}",
        daemon.log_text()
    );
    let forged: std::net::Ipv6Addr = "fd23::dead:beef".parse().unwrap();
    netd_testkit::forged::neighbour_solicitation(
        &attacker,
        "host0",
        forged,
        web.mac("host0"),
        "fd23::1".parse().unwrap(),
        5,
    );
    // The forgery reached the host's kernel (else this test proves
    // nothing)...
    let neigh = lab
        .host()
        .run_ok(&["ip", "-6", "neigh", "show", "dev", "nat0"]);
    let web_mac = web.mac_string("host0");
    assert!(
        neigh
            .lines()
            .any(|l| l.starts_with("fd23::dead:beef ") && l.contains(&web_mac)),
        "the forged entry is not in the host's table:\n{neigh}"
    );
    // ...and was probed, well past the time a real address takes.
    std::thread::sleep(Duration::from_secs(3));
    let answer = dig(&web, &["AAAA", "web.lan"]);
    assert!(
        !answer.contains("dead:beef") && answer.lines().any(|l| l == addr),
        "web.lan answers {answer:?}\n{}",
        daemon.log_text()
    );
    assert_eq!(dig(&web, &["-x", "fd23::dead:beef"]), "", "a PTR for it");
}
