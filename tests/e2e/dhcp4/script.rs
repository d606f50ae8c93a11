//! `--dhcp-script` and `--leasefile-ro` end to end (`add`, `old` on
//! SIGHUP, `del`). The script appends its
//! arguments and its `DNSMASQ_*` environment to a file in the lab; dnsmasq
//! runs the same script in the same scenario as the reference. With
//! `--leasefile-ro` the script also keeps the leases (`init` prints them),
//! and a restart must get them back from it.

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dhcproto::v4::{DhcpOption, MessageType};
use netd_testkit::dhcp_wire;
use netd_testkit::lab::{self, Lab};

use super::{Server, seed_args, start};

/// Logs each call to `calls`; keeps `leases` (one line a MAC) as dnsmasq's
/// lease file would be, and prints it for `init`.
fn write_script(dir: &Path) -> PathBuf {
    let path = dir.join("lease-script");
    let calls = dir.join("calls");
    let db = dir.join("leases.db");
    let text = format!(
        r#"#!/bin/sh
calls='{calls}'
db='{db}'
{{ echo "ARGS $*"; env | grep '^DNSMASQ_' | sort; echo END; }} >> "$calls"
touch "$db"
case "$1" in
init) cat "$db" ;;
add|old)
    grep -v " $2 " "$db" > "$db.new"
    echo "$DNSMASQ_LEASE_EXPIRES $2 $3 ${{4:-*}} ${{DNSMASQ_CLIENT_ID:-*}}" >> "$db.new"
    mv "$db.new" "$db" ;;
del)
    grep -v " $2 " "$db" > "$db.new"
    mv "$db.new" "$db" ;;
esac
exit 0
"#,
        calls = calls.display(),
        db = db.display()
    );
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Each call: its argument line and its environment.
fn calls(dir: &Path) -> Vec<(String, Vec<String>)> {
    let text = lab::read_or_empty(&dir.join("calls"));
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(args) = lines.next() {
        let env: Vec<String> = lines
            .by_ref()
            .take_while(|l| *l != "END")
            .map(str::to_owned)
            .collect();
        out.push((args.trim_start_matches("ARGS ").to_owned(), env));
    }
    out
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.map(|b| format!("{b:02x}")).join(":")
}

/// DISCOVER (asking for `want`) and REQUEST with a hostname: the address.
fn acquire_named(
    c: &lab::Netns,
    mac: [u8; 6],
    want: Option<Ipv4Addr>,
    xid: u32,
) -> Option<Ipv4Addr> {
    lab::in_netns(c, move || {
        let sock = dhcp_wire::client_socket("host0");
        let mut d = dhcp_wire::request(MessageType::Discover, mac, xid);
        if let Some(w) = want {
            d.opts_mut().insert(DhcpOption::RequestedIpAddress(w));
        }
        let offer = dhcp_wire::exchange(&sock, &d, Duration::from_secs(2))?;
        let mut r = dhcp_wire::request(MessageType::Request, mac, xid + 1);
        r.opts_mut()
            .insert(DhcpOption::RequestedIpAddress(offer.yiaddr()));
        r.opts_mut()
            .insert(DhcpOption::ServerIdentifier(dhcp_wire::server_id(&offer)?));
        r.opts_mut().insert(DhcpOption::Hostname("scripted".into()));
        let ack = dhcp_wire::exchange(&sock, &r, Duration::from_secs(2))?;
        (dhcp_wire::msg_type(&ack) == Some(MessageType::Ack)).then(|| ack.yiaddr())
    })
}

fn release(c: &lab::Netns, mac: [u8; 6], addr: Ipv4Addr, server: Ipv4Addr) {
    lab::in_netns(c, move || {
        let sock = dhcp_wire::client_socket("host0");
        let mut m = dhcp_wire::request(MessageType::Release, mac, 77);
        m.set_ciaddr(addr);
        m.opts_mut().insert(DhcpOption::ServerIdentifier(server));
        let _ = dhcp_wire::exchange(&sock, &m, Duration::from_millis(200));
    });
}

fn env_value<'a>(env: &'a [String], key: &str) -> Option<&'a str> {
    env.iter()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
}

/// add, SIGHUP, then RELEASE: the calls, and the environment of the add.
fn add_and_del(server: Server) -> (Vec<String>, Vec<String>) {
    let mut lab = Lab::new();
    let c = lab.container("s");
    let script = write_script(lab.dir());
    let mut args = seed_args(lab.dir());
    args.push(format!("--dhcp-script={}", script.display()));
    args.push("--domain=lab.example".into());
    let daemon = start(&mut lab, server, &args);
    let mac = dhcp_wire::mac(1);
    let addr = acquire_named(&c, mac, None, 100).unwrap_or_else(|| panic!("{}", daemon.log_text()));
    assert!(
        lab::wait_until(Duration::from_secs(5), || !calls(lab.dir()).is_empty()),
        "{server:?}: no add\n{}",
        daemon.log_text()
    );
    // SIGHUP: `old` for every lease.
    daemon.signal(libc::SIGHUP);
    assert!(
        lab::wait_until(Duration::from_secs(5), || calls(lab.dir()).len() >= 2),
        "{server:?}: no old after SIGHUP {:?}\n{}",
        calls(lab.dir()),
        daemon.log_text()
    );
    release(&c, mac, addr, super::BRIDGE);
    assert!(
        lab::wait_until(Duration::from_secs(5), || calls(lab.dir()).len() >= 3),
        "{server:?}: {:?}\n{}",
        calls(lab.dir()),
        daemon.log_text()
    );
    let got = calls(lab.dir());
    let m = mac_text(mac);
    let args: Vec<String> = got.iter().map(|(a, _)| a.clone()).collect();
    assert_eq!(
        args,
        [
            format!("add {m} {addr} scripted"),
            format!("old {m} {addr} scripted"),
            format!("del {m} {addr} scripted")
        ],
        "{server:?}\n{}",
        daemon.log_text()
    );
    (args, got[0].1.clone())
}

#[test]
fn the_script_gets_add_and_del_with_dnsmasqs_environment() {
    let (_, env) = add_and_del(Server::NspawnNetd);
    assert_eq!(
        env_value(&env, "DNSMASQ_INTERFACE"),
        Some("nat0"),
        "{env:?}"
    );
    assert_eq!(
        env_value(&env, "DNSMASQ_DOMAIN"),
        Some("lab.example"),
        "{env:?}"
    );
    assert_eq!(
        env_value(&env, "DNSMASQ_SUPPLIED_HOSTNAME"),
        Some("scripted"),
        "{env:?}"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expires: u64 = env_value(&env, "DNSMASQ_LEASE_EXPIRES")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{env:?}"));
    assert!((now + 43_000..=now + 43_300).contains(&expires), "{env:?}");
    let remaining: u64 = env_value(&env, "DNSMASQ_TIME_REMAINING")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{env:?}"));
    assert!((43_000..=43_200).contains(&remaining), "{env:?}");
}

#[test]
fn dnsmasq_as_reference_gives_the_script_the_same_calls() {
    let (_, env) = add_and_del(Server::Dnsmasq);
    // The variables nspawn-netd sets are ones dnsmasq sets too.
    for key in [
        "DNSMASQ_INTERFACE",
        "DNSMASQ_DOMAIN",
        "DNSMASQ_SUPPLIED_HOSTNAME",
        "DNSMASQ_LEASE_EXPIRES",
        "DNSMASQ_TIME_REMAINING",
    ] {
        assert!(
            env_value(&env, key).is_some(),
            "dnsmasq set no {key}: {env:?}"
        );
    }
}

const WANTED: Ipv4Addr = Ipv4Addr::new(192, 168, 26, 77);

fn leasefile_ro_restores(server: Server) {
    let mut lab = Lab::new();
    let c = lab.container("ro");
    let script = write_script(lab.dir());
    let mut args = seed_args(lab.dir());
    args.push(format!("--dhcp-script={}", script.display()));
    args.push("--leasefile-ro".into());
    let (owner, other) = (dhcp_wire::mac(2), dhcp_wire::mac(3));
    let daemon = start(&mut lab, server, &args);
    assert_eq!(
        acquire_named(&c, owner, Some(WANTED), 10),
        Some(WANTED),
        "{}",
        daemon.log_text()
    );
    let m = mac_text(owner);
    assert!(
        lab::wait_until(Duration::from_secs(5), || {
            lab::read_or_empty(&lab.dir().join("leases.db")).contains(&m)
        }),
        "{server:?}: the script never stored the lease: {:?}",
        calls(lab.dir())
    );
    drop(daemon);
    let written: Vec<String> = std::fs::read_dir(lab.dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("leases") && n != "leases.db")
        .collect();
    assert!(written.is_empty(), "{server:?} wrote {written:?}");

    let daemon = start(&mut lab, server, &args);
    assert!(
        calls(lab.dir()).iter().any(|(a, _)| a == "init"),
        "{server:?}: no init call: {:?}",
        calls(lab.dir())
    );
    // The restored lease holds the address against another client...
    let got = acquire_named(&c, other, Some(WANTED), 20);
    assert_ne!(got, Some(WANTED), "{server:?}\n{}", daemon.log_text());
    // ...and its owner gets it back without asking.
    assert_eq!(
        acquire_named(&c, owner, None, 30),
        Some(WANTED),
        "{server:?}\n{}",
        daemon.log_text()
    );
}

#[test]
fn leasefile_ro_takes_the_leases_from_the_scripts_init() {
    leasefile_ro_restores(Server::NspawnNetd);
}

#[test]
fn dnsmasq_as_reference_takes_the_leases_from_init() {
    leasefile_ro_restores(Server::Dnsmasq);
}
