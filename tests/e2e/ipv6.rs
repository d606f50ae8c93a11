//! IPv6 end to end: router advertisements (SLAAC address, default route,
//! rdisc6's view of the RA), stateless DHCPv6 with dhclient, the final RA on
//! SIGTERM, `nspawn-netd ra` alone, and `ra-names` (the neighbour table, and
//! AAAA answers for an EUI-64 and a stable-privacy container).

use std::time::{Duration, Instant};

use netd_testkit::lab::{Lab, Netns, read_or_empty, wait_until};

mod names;

const SEED_RANGE: &str = "--dhcp-range=fd23::/64,ra-stateless,ra-names";

/// How a container forms its SLAAC interface identifier.
#[derive(Debug, Clone, Copy)]
enum AddrGen {
    /// `addr_gen_mode=0`: modified EUI-64 from the MAC.
    Eui64,
    /// `addr_gen_mode=2` with a `stable_secret` (RFC 7217).
    StablePrivacy,
}

/// A container that accepts RAs (set inside its own namespace only).
fn slaac_container(lab: &mut Lab, short: &str, mode: AddrGen) -> Netns {
    let c = lab.container(short);
    c.run_ok(&["sysctl", "-qw", "net.ipv6.conf.host0.accept_ra=1"]);
    match mode {
        AddrGen::Eui64 => {
            c.run_ok(&["sysctl", "-qw", "net.ipv6.conf.host0.addr_gen_mode=0"]);
        }
        AddrGen::StablePrivacy => {
            c.run_ok(&[
                "sysctl",
                "-qw",
                "net.ipv6.conf.host0.stable_secret=2001:db8:5eed:1:2:3:4:5",
            ]);
            c.run_ok(&["sysctl", "-qw", "net.ipv6.conf.host0.addr_gen_mode=2"]);
        }
    }
    // Re-form the link-local address with the chosen mode.
    c.run_ok(&["ip", "link", "set", "host0", "down"]);
    c.run_ok(&["ip", "link", "set", "host0", "up"]);
    c
}

/// The container's non-tentative global address in fd23::/64, waiting ≤20 s.
fn slaac_address(c: &Netns) -> String {
    let mut found = None;
    wait_until(Duration::from_secs(20), || {
        let out = c.run_ok(&[
            "ip", "-6", "-o", "addr", "show", "dev", "host0", "scope", "global",
        ]);
        found = out
            .lines()
            .filter(|l| !l.contains("tentative"))
            .filter_map(|l| l.split_whitespace().nth(3))
            .find(|a| a.starts_with("fd23::"))
            .map(|a| a.trim_end_matches("/64").to_owned());
        found.is_some()
    });
    found.unwrap_or_else(|| {
        panic!(
            "no SLAAC address in fd23::/64 on {}:\n{}",
            c.name,
            c.run_ok(&["ip", "-6", "addr", "show", "dev", "host0"])
        )
    })
}

fn host_link_local(lab: &Lab) -> String {
    let out = lab.host().run_ok(&[
        "ip", "-6", "-o", "addr", "show", "dev", "nat0", "scope", "link",
    ]);
    out.split_whitespace()
        .nth(3)
        .expect("nat0 has a link-local address")
        .trim_end_matches("/64")
        .to_owned()
}

fn default_route(c: &Netns) -> String {
    c.run_ok(&["ip", "-6", "route", "show", "default"])
}

fn wait_default_route_via(c: &Netns, via: &str) {
    let ok = wait_until(Duration::from_secs(10), || {
        let r = default_route(c);
        r.contains(&format!("via {via} ")) && r.contains("dev host0")
    });
    assert!(ok, "no default route via {via}: {:?}", default_route(c));
}

/// rdisc6's decoding of one RA, soliciting it from inside the container.
fn rdisc6(c: &Netns) -> String {
    let out = c.run(&["rdisc6", "-1", "-r", "3", "-w", "2000", "host0"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "rdisc6 failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// `field: value` lines of rdisc6 output, whitespace squeezed.
fn squeeze(text: &str) -> String {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn slaac_address_default_route_and_rdisc6_view() {
    let mut lab = Lab::new();
    lab.add_ipv6();
    let c = slaac_container(&mut lab, "a", AddrGen::Eui64);
    let daemon = lab.start_daemon(&["--interface=nat0", SEED_RANGE, "--domain=lan"]);
    let addr = slaac_address(&c);
    let ll = host_link_local(&lab);
    wait_default_route_via(&c, &ll);
    let ra = squeeze(&rdisc6(&c));
    for want in [
        "Stateful address conf. : No",
        "Stateful other conf. : Yes",
        "Router lifetime : 1800",
        "MTU : 1500 bytes (valid)",
        "Prefix : fd23::/64",
        "On-link : Yes",
        "Autonomous address conf.: Yes",
        "Recursive DNS server : fd23::1",
        "DNS search list : lan",
        &format!("from {ll}"),
    ] {
        assert!(ra.contains(want), "rdisc6 lacks {want:?}:\n{ra}");
    }
    let mac = lab.host().mac_string("nat0");
    assert!(
        ra.contains(&format!(
            "Source link-layer address: {}",
            mac.to_uppercase()
        )) || ra.contains(&mac),
        "rdisc6 lacks the bridge MAC {mac}:\n{ra}"
    );
    assert!(addr.contains("ff:fe"), "an EUI-64 address: {addr}");
    drop(daemon);
}

#[test]
fn dhclient_information_request_receives_the_dns_server_and_domain() {
    let mut lab = Lab::new();
    lab.add_ipv6();
    let c = slaac_container(&mut lab, "d", AddrGen::Eui64);
    let _daemon = lab.start_daemon(&["--interface=nat0", SEED_RANGE, "--domain=lan"]);
    slaac_address(&c);
    let dir = lab.dir().to_owned();
    let script = dir.join("dhclient6-script");
    let env_out = dir.join("dhclient6.env");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nenv > {}.tmp && mv {}.tmp {}\n",
            env_out.display(),
            env_out.display(),
            env_out.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let lease = dir.join("dhclient6.leases");
    let pid = dir.join("dhclient6.pid");
    let mut child = c.spawn(&[
        "dhclient",
        "-6",
        "-S",
        "-d",
        "-v",
        "-lf",
        lease.to_str().unwrap(),
        "-pf",
        pid.to_str().unwrap(),
        "-sf",
        script.to_str().unwrap(),
        "host0",
    ]);
    let got = wait_until(Duration::from_secs(15), || {
        read_or_empty(&env_out).contains("new_dhcp6_name_servers")
    });
    let _ = child.kill();
    let _ = child.wait();
    let env = read_or_empty(&env_out);
    assert!(got, "dhclient got no DNS server; its environment:\n{env}");
    assert!(env.contains("new_dhcp6_name_servers=fd23::1"), "{env}");
    assert!(env.contains("new_dhcp6_domain_search=lan."), "{env}");
    assert!(env.contains("new_dhcp6_info_refresh_time=86400"), "{env}");
}

/// A stateful client (dhclient -6 without -S) asks for an address; the
/// stateless server's Advertise says NoAddrsAvail, which dhclient reads as
/// "Lease failed to satisfy": it keeps soliciting and gets no address.
#[test]
fn a_solicit_gets_no_addrs_avail() {
    let mut lab = Lab::new();
    lab.add_ipv6();
    let c = slaac_container(&mut lab, "n", AddrGen::Eui64);
    let daemon = lab.start_daemon(&["--interface=nat0", SEED_RANGE]);
    slaac_address(&c);
    let dir = lab.dir().to_owned();
    let err = dir.join("dhclient6-stateful.err");
    let mut child = c
        .cmd("dhclient")
        .args(["-6", "-d", "-v", "-sf", "/bin/true"])
        .arg("-lf")
        .arg(dir.join("stateful.leases"))
        .arg("-pf")
        .arg(dir.join("stateful.pid"))
        .arg("host0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("starting dhclient");
    let got = wait_until(Duration::from_secs(15), || {
        let e = read_or_empty(&err);
        e.contains("RCV: Advertise message") && e.contains("Lease failed to satisfy")
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        got,
        "dhclient did not turn the Advertise down:\n{}",
        read_or_empty(&err)
    );
    assert!(
        daemon
            .log_text()
            .contains("Solicit answered with NoAddrsAvail")
    );
    let global = c.run_ok(&[
        "ip", "-6", "-o", "addr", "show", "dev", "host0", "scope", "global",
    ]);
    assert_eq!(
        global.lines().count(),
        1,
        "only the SLAAC address: {global}"
    );
}

/// dhcpcd with its state directories bound to the lab dir (inside the
/// mount namespace `ip netns exec` gives it) and a hook that records each
/// event's environment.
#[test]
fn dhcpcd_learns_rdnss_from_the_ra_and_dns_from_dhcpv6() {
    let mut lab = Lab::new();
    lab.add_ipv6();
    let c = slaac_container(&mut lab, "p", AddrGen::Eui64);
    let _daemon = lab.start_daemon(&["--interface=nat0", SEED_RANGE, "--domain=lan"]);
    let d = lab.dir().join("dhcpcd");
    std::fs::create_dir_all(d.join("lib")).unwrap();
    std::fs::create_dir_all(d.join("run")).unwrap();
    let events = d.join("events");
    let script = d.join("hook");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n{{ echo \"== $reason\"; env; }} >> {}\n",
            events.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let d = d.display();
    let sh = format!(
        "mount --bind {d}/lib /var/lib/dhcpcd && mount --bind {d}/run /run/dhcpcd && \
         exec dhcpcd -6 -B -d --inform6 -c {} host0",
        script.display()
    );
    let mut child = c.spawn(&["sh", "-c", &sh]);
    let got = wait_until(Duration::from_secs(20), || {
        let e = read_or_empty(&events);
        e.contains("new_dhcp6_name_servers=fd23::1") && e.contains("_rdnss1_servers=fd23::1")
    });
    let _ = child.kill();
    let _ = child.wait();
    let e = read_or_empty(&events);
    assert!(
        got,
        "dhcpcd did not see both the RDNSS and the DHCPv6 DNS server:\n{e}"
    );
    assert!(e.contains("new_dhcp6_domain_search=lan"), "{e}");
    assert!(e.contains("_dnssl1_search=lan"), "{e}");
}

#[test]
fn sigterm_withdraws_the_default_route_at_once() {
    let mut lab = Lab::new();
    lab.add_ipv6();
    let c = slaac_container(&mut lab, "t", AddrGen::Eui64);
    let daemon = lab.start_daemon(&["--interface=nat0", SEED_RANGE]);
    slaac_address(&c);
    let ll = host_link_local(&lab);
    wait_default_route_via(&c, &ll);
    // Capture, in the container, the first RA whose router lifetime (ICMPv6
    // bytes 6-7, no extension headers) is 0; the route is checked as well.
    let out = lab.dir().join("final-ra.txt");
    let mut capture = c
        .cmd("tcpdump")
        .args(["-i", "host0", "-n", "-vv", "-l", "-c", "1"])
        .arg("icmp6 and ip6[40] == 134 and ip6[46:2] == 0")
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starting tcpdump");
    std::thread::sleep(Duration::from_secs(2));
    let log = daemon.log.clone();
    let status = daemon.stop();
    assert!(status.success(), "nspawn-netd exited with {status}");
    let gone = wait_until(Duration::from_secs(3), || {
        default_route(&c).trim().is_empty()
    });
    assert!(
        gone,
        "the default route survived SIGTERM: {:?}",
        default_route(&c)
    );
    let captured = wait_until(Duration::from_secs(3), || {
        read_or_empty(&out).contains("router lifetime 0s")
    });
    let _ = capture.kill();
    let _ = capture.wait();
    assert!(
        captured,
        "no RA with router lifetime 0 captured: {:?}\n{}",
        read_or_empty(&out),
        read_or_empty(&log)
    );
    assert!(read_or_empty(&log).contains("final router advertisement"));
}

#[test]
fn the_ra_subcommand_alone_gives_slaac_and_a_default_route() {
    let mut lab = Lab::new();
    lab.add_ipv6();
    let c = slaac_container(&mut lab, "r", AddrGen::Eui64);
    let _daemon = lab.start_daemon(&["ra", "--prefix", "fd23::/64", "--interface", "nat0"]);
    slaac_address(&c);
    wait_default_route_via(&c, &host_link_local(&lab));
    let ra = squeeze(&rdisc6(&c));
    assert!(ra.contains("Prefix : fd23::/64"), "{ra}");
    assert!(ra.contains("Autonomous address conf.: Yes"), "{ra}");
    assert!(ra.contains("Stateful other conf. : No"), "{ra}");
    assert!(!ra.contains("Recursive DNS server"), "{ra}");
}

#[test]
fn ra_waits_for_a_usable_link_local_address_and_then_starts() {
    let mut lab = Lab::new();
    lab.add_ipv6();
    // No port on the bridge yet: no carrier, so no usable link-local.
    let daemon = lab.start_daemon(&[
        "--interface=nat0",
        "--dhcp-range=fd23::,ra-only",
        "--ra-param=nat0,high,60,1200",
    ]);
    assert!(
        daemon.wait_for_log(
            "waiting to send router advertisements",
            Duration::from_secs(5)
        ),
        "{}",
        daemon.log_text()
    );
    let c = slaac_container(&mut lab, "l", AddrGen::Eui64);
    slaac_address(&c);
    assert!(daemon.log_text().contains("sending router advertisements"));
    let ra = squeeze(&rdisc6(&c));
    assert!(ra.contains("Router lifetime : 1200"), "{ra}");
    assert!(ra.contains("Router preference : high"), "{ra}");
    assert!(ra.contains("Stateful other conf. : No"), "ra-only: {ra}");
}

/// Waits until the daemon's log shows `addr` published for `mac`.
fn wait_published(daemon: &netd_testkit::lab::Daemon, mac: &str, addr: &str) -> bool {
    wait_until(Duration::from_secs(30), || {
        daemon
            .log_text()
            .lines()
            .any(|l| l.contains("ra-names neighbour") && l.contains(mac) && l.contains(addr))
    })
}

#[test]
fn ra_names_learns_eui64_and_stable_privacy_addresses_from_the_neighbour_table() {
    let mut lab = Lab::new();
    lab.add_ipv6();
    let eui = slaac_container(&mut lab, "e", AddrGen::Eui64);
    let stable = slaac_container(&mut lab, "s", AddrGen::StablePrivacy);
    let daemon = lab.start_daemon(&["--interface=nat0", SEED_RANGE]);
    let eui_addr = slaac_address(&eui);
    let eui_valid = Instant::now();
    let stable_addr = slaac_address(&stable);
    let stable_valid = Instant::now();
    assert!(
        !stable_addr.contains("ff:fe"),
        "a stable-privacy address: {stable_addr}"
    );
    // Neither container sends anything to the host: the daemon's probes
    // must bring them into the neighbour table, within about two seconds
    // of the address becoming valid (one more for a loaded machine).
    for (c, addr, valid) in [
        (&eui, &eui_addr, eui_valid),
        (&stable, &stable_addr, stable_valid),
    ] {
        let mac = c.mac_string("host0");
        assert!(
            wait_published(&daemon, &mac, addr),
            "{addr} of {mac} never published:\n{}\nhost neighbours:\n{}",
            daemon.log_text(),
            lab.host()
                .run_ok(&["ip", "-6", "neigh", "show", "dev", "nat0"])
        );
        let took = valid.elapsed();
        eprintln!("{addr} published {took:?} after the test saw it valid");
        assert!(
            took <= Duration::from_secs(3),
            "{addr} published only {took:?} after it was valid:\n{}",
            daemon.log_text()
        );
    }
}

/// dnsmasq as the reference: the same range, the same container, and
/// rdisc6's view of both RAs compared field by field. The DNS options
/// differ on purpose: dnsmasq advertises its link-local address with an
/// infinite lifetime and no DNSSL for --domain; nspawn-netd advertises the
/// global address DNS listens on, and the domain as DNSSL.
#[test]
fn the_ra_matches_dnsmasqs_for_the_same_range() {
    let view = |use_dnsmasq: bool| {
        let mut lab = Lab::new();
        lab.add_ipv6();
        let c = slaac_container(&mut lab, "o", AddrGen::Eui64);
        let _d;
        let mut _child = None;
        if use_dnsmasq {
            let dir = lab.dir().to_owned();
            let child = lab.host().spawn(&[
                "dnsmasq",
                "-k",
                "--conf-file=/dev/null",
                "--interface=nat0",
                "--bind-interfaces",
                "--enable-ra",
                "--dhcp-range=fd23::,ra-stateless,ra-names",
                "--domain=lan",
                &format!("--pid-file={}/dnsmasq.pid", dir.display()),
                &format!("--dhcp-leasefile={}/dnsmasq.leases", dir.display()),
            ]);
            _child = Some(child);
        } else {
            _d = lab.start_daemon(&[
                "--interface=nat0",
                "--dhcp-range=fd23::,ra-stateless,ra-names",
                "--domain=lan",
            ]);
        }
        slaac_address(&c);
        let text = squeeze(&rdisc6(&c));
        if let Some(mut ch) = _child {
            let _ = ch.kill();
            let _ = ch.wait();
        }
        text
    };
    let ours = view(false);
    let theirs = view(true);
    let field = |text: &str, name: &str| -> Option<String> {
        text.lines()
            .find(|l| l.starts_with(name))
            .map(str::to_owned)
    };
    for name in [
        "Hop limit",
        "Stateful address conf.",
        "Stateful other conf.",
        "Router preference",
        "Router lifetime",
        "MTU",
        "Prefix",
        "On-link",
        "Autonomous address conf.",
        "Valid time",
        "Pref. time",
    ] {
        assert_eq!(field(&ours, name), field(&theirs, name), "{name}");
    }
}
