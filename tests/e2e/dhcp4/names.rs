//! Hostnames a container may not take. A second container asking for the
//! name a live container holds gets its address but not the name; once the
//! holder stops answering ARP, the name moves to the one that asked. A name
//! from a hosts file is never given to a DHCP client. (dnsmasq gives a
//! name to the newest client that asks; these tests check the difference.)

use std::net::Ipv4Addr;
use std::time::Duration;

use netd_testkit::clients::{Client, Run};
use netd_testkit::lab::{Lab, Netns, wait_until};

fn dig(c: &Netns, name: &str) -> String {
    let out = c.run(&[
        "dig",
        "+short",
        "+time=1",
        "+tries=1",
        "@192.168.26.1",
        name,
    ]);
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn lease(lab: &Lab, c: &Netns, hostname: &str) -> Ipv4Addr {
    let run = Run {
        hostname: Some(hostname),
        ..Run::default()
    };
    Client::Udhcpc
        .obtain(c, lab.dir(), &run)
        .unwrap_or_else(|e| panic!("{e}"))
        .addr
}

#[test]
fn a_live_containers_name_is_not_taken_and_moves_once_it_is_gone() {
    let mut lab = Lab::new();
    let daemon = lab.start_daemon(&[
        "--interface=nat0",
        "--dhcp-range=192.168.26.20,192.168.26.100,12h",
        "--domain=lan",
    ]);
    let a = lab.container("a");
    let b = lab.container("b");
    let addr_a = lease(&lab, &a, "web");
    eprintln!(
        "A mac {} addr {addr_a}\n{}",
        a.mac_string("host0"),
        a.run_ok(&["ip", "addr"])
    );
    assert!(
        wait_until(Duration::from_secs(3), || dig(&a, "web.lan")
            == addr_a.to_string()),
        "web.lan: {:?}\n{}",
        dig(&a, "web.lan"),
        daemon.log_text()
    );
    let addr_b = lease(&lab, &b, "web");
    assert_ne!(addr_a, addr_b);
    // The holder answers ARP: the name stays, whatever B asks.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        dig(&b, "web.lan"),
        addr_a.to_string(),
        "{}",
        daemon.log_text()
    );
    assert_eq!(dig(&b, "web"), addr_a.to_string());
    assert!(daemon.log_text().contains("not giving the name"));
    // A is gone (its link removed, its lease still running): its next
    // probe (every 10 s while B waits) finds it silent, and the name moves
    // without B asking again.
    lab.unplug(&a);
    let mut got = String::new();
    assert!(
        wait_until(Duration::from_secs(15), || {
            got = dig(&b, "web.lan");
            got == addr_b.to_string()
        }),
        "web.lan still answers {got:?}, want {addr_b}\n{}",
        daemon.log_text()
    );
    assert!(daemon.log_text().contains("name moves"));
}

#[test]
fn a_hosts_file_name_cannot_be_claimed_by_dhcp() {
    let mut lab = Lab::new();
    let hosts = lab.dir().join("hosts");
    std::fs::write(&hosts, "192.168.26.5 printer printer.lan\n").unwrap();
    let daemon = lab.start_daemon(&[
        "--interface=nat0",
        "--dhcp-range=192.168.26.20,192.168.26.100,12h",
        "--domain=lan",
        &format!("--addn-hosts={}", hosts.display()),
    ]);
    let c = lab.container("c");
    let addr = lease(&lab, &c, "printer");
    std::thread::sleep(Duration::from_millis(500));
    for name in ["printer", "printer.lan"] {
        assert_eq!(
            dig(&c, name),
            "192.168.26.5",
            "{name}\n{}",
            daemon.log_text()
        );
    }
    let ptr = c.run(&["dig", "+short", "@192.168.26.1", "-x", &addr.to_string()]);
    assert!(
        !String::from_utf8_lossy(&ptr.stdout).contains("printer"),
        "the client's address got the name"
    );
    assert!(
        daemon
            .log_text()
            .contains("a hosts file or local record has it"),
        "{}",
        daemon.log_text()
    );
}
