//! DHCPv4 end to end: the seed's dnsmasq command line with `nspawn-netd` in
//! its place serves dhclient, udhcpc and dhcpcd; dnsmasq itself passes the
//! same scenario as the reference. Leases survive a restart, reservations
//! win, RELEASE frees, foreign requests are NAKed, the pool runs out cleanly.

mod free_pool;
mod names;

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use dhcproto::v4::{DhcpOption, MessageType};

use netd_testkit::clients::{self, Client, Run};
use netd_testkit::dhcp_wire;
use netd_testkit::lab::{self, Daemon, Lab};

mod hosts;
mod relay;
mod script;

const POOL: (Ipv4Addr, Ipv4Addr) = (
    Ipv4Addr::new(192, 168, 26, 20),
    Ipv4Addr::new(192, 168, 26, 100),
);
const BRIDGE: Ipv4Addr = Ipv4Addr::new(192, 168, 26, 1);

#[derive(Debug, Clone, Copy)]
enum Server {
    NspawnNetd,
    Dnsmasq,
}

/// The seed's command line, with lease and pid files in the lab dir.
fn seed_args(dir: &Path) -> Vec<String> {
    vec![
        "--interface=nat0".into(),
        "--except-interface=lo".into(),
        "--dhcp-range=192.168.26.20,192.168.26.100,12h".into(),
        "--dhcp-option=6,192.168.26.1".into(),
        "--listen-address=192.168.26.1".into(),
        "--port=53".into(),
        format!("--pid-file={}", dir.join("nat0-netd.pid").display()),
        format!("--dhcp-leasefile={}", dir.join("leases").display()),
    ]
}

/// The seed's command line with its `--dhcp-range` replaced by `range`.
fn seed_args_with_range(dir: &Path, range: &str) -> Vec<String> {
    seed_args(dir)
        .into_iter()
        .map(|a| {
            if a.starts_with("--dhcp-range=") {
                format!("--dhcp-range={range}")
            } else {
                a
            }
        })
        .collect()
}

fn start(lab: &mut Lab, server: Server, args: &[String]) -> Daemon {
    start_until(lab, server, args, "DHCP, IP range")
}

/// [`start`], with the line dnsmasq logs once ready (a static range logs
/// `DHCP, static leases only` instead of an IP range).
fn start_until(lab: &mut Lab, server: Server, args: &[String], dnsmasq_ready: &str) -> Daemon {
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    match server {
        Server::NspawnNetd => lab.start_daemon(&args),
        Server::Dnsmasq => {
            // The reference runs in the foreground, as root, logging to
            // stderr, without its 3 s ping check before each offer.
            args.extend([
                "--keep-in-foreground",
                "--user=root",
                "--log-facility=-",
                "--log-dhcp",
                "--no-ping",
            ]);
            lab.spawn_server("dnsmasq", &args, dnsmasq_ready)
        }
    }
}

fn in_pool(a: Ipv4Addr) -> bool {
    (u32::from(POOL.0)..=u32::from(POOL.1)).contains(&u32::from(a))
}

fn lease_lines(dir: &Path) -> Vec<String> {
    lab::read_or_empty(&dir.join("leases"))
        .lines()
        .filter(|l| !l.starts_with("duid"))
        .map(str::to_owned)
        .collect()
}

fn serve_all_clients(server: Server) {
    let mut lab = Lab::new();
    let args = seed_args(lab.dir());
    let daemon = start(&mut lab, server, &args);
    let mut seen = HashSet::new();
    for client in clients::ALL {
        let c = lab.container(&client.name()[..4]);
        let lease = client
            .obtain(&c, lab.dir(), &Run::default())
            .unwrap_or_else(|e| panic!("{server:?}: {e}\nserver log:\n{}", daemon.log_text()));
        assert!(in_pool(lease.addr), "{server:?} {client:?}: {lease:?}");
        assert!(
            seen.insert(lease.addr),
            "{server:?} gave {} twice",
            lease.addr
        );
        assert_eq!(lease.routers, [BRIDGE], "{server:?} {client:?}: {lease:?}");
        assert_eq!(lease.dns, [BRIDGE], "{server:?} {client:?}: {lease:?}");
        assert_eq!(
            lease.lease_secs,
            Some(43_200),
            "{server:?} {client:?}: {lease:?}"
        );
        assert_eq!(
            lease.netmask,
            Some(Ipv4Addr::new(255, 255, 255, 0)),
            "{client:?}"
        );
        // The lease file, in dnsmasq's format, names the client (within
        // the second nspawn-netd may take to export it).
        let mac = c.mac_string("host0");
        let named = |lines: &[String]| {
            lines.iter().any(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                f.len() == 5 && f[1] == mac && f[2] == lease.addr.to_string()
            })
        };
        lab::wait_until(Duration::from_secs(3), || named(&lease_lines(lab.dir())));
        let lines = lease_lines(lab.dir());
        assert!(
            named(&lines),
            "{server:?}: no lease line for {mac} {} in {lines:?}",
            lease.addr
        );
    }
    let pid = std::fs::read_to_string(lab.dir().join("nat0-netd.pid")).expect("pid file");
    assert_eq!(pid.trim(), daemon.pid.to_string());
}

#[test]
fn the_seed_command_line_serves_dhclient_udhcpc_and_dhcpcd() {
    serve_all_clients(Server::NspawnNetd);
}

#[test]
fn dnsmasq_as_reference_serves_the_same_clients() {
    serve_all_clients(Server::Dnsmasq);
}

const WANTED: Ipv4Addr = Ipv4Addr::new(192, 168, 26, 77);

#[test]
fn a_restarted_daemon_gives_a_client_its_address_back() {
    let mut lab = Lab::new();
    let args = seed_args(lab.dir());
    let c = lab.container("a");
    let daemon = start(&mut lab, Server::NspawnNetd, &args);
    let run = Run {
        requested: Some(WANTED),
        ..Run::default()
    };
    let first = Client::Udhcpc.obtain(&c, lab.dir(), &run).unwrap();
    assert_eq!(first.addr, WANTED, "the requested free address is offered");
    assert!(daemon.stop().success());
    let expiry_and_mac = lease_lines(lab.dir());
    assert_eq!(expiry_and_mac.len(), 1, "{expiry_and_mac:?}");

    let daemon = start(&mut lab, Server::NspawnNetd, &args);
    let again = Client::Udhcpc
        .obtain(&c, lab.dir(), &Run::default())
        .unwrap_or_else(|e| panic!("{e}\n{}", daemon.log_text()));
    assert_eq!(
        again.addr, WANTED,
        "the persisted lease is kept across restarts"
    );
}

#[test]
fn a_reservation_wins_over_the_pool() {
    let mut lab = Lab::new();
    let c = lab.container("r");
    let mut args = seed_args(lab.dir());
    args.push(format!(
        "--dhcp-host={},192.168.26.5,web",
        c.mac_string("host0")
    ));
    let daemon = start(&mut lab, Server::NspawnNetd, &args);
    for client in [Client::Udhcpc, Client::Dhclient] {
        let lease = client
            .obtain(&c, lab.dir(), &Run::default())
            .unwrap_or_else(|e| panic!("{e}\n{}", daemon.log_text()));
        assert_eq!(lease.addr, Ipv4Addr::new(192, 168, 26, 5), "{client:?}");
    }
}

#[test]
fn a_release_frees_the_address_for_another_client() {
    let mut lab = Lab::new();
    let args = seed_args(lab.dir());
    let (a, b) = (lab.container("a"), lab.container("b"));
    let daemon = start(&mut lab, Server::NspawnNetd, &args);
    let want = Run {
        requested: Some(WANTED),
        ..Run::default()
    };
    let first = Client::Dhclient
        .obtain(&a, lab.dir(), &want)
        .unwrap_or_else(|e| panic!("{e}\n{}", daemon.log_text()));
    assert_eq!(first.addr, WANTED);
    let mac_a = a.mac_string("host0");
    assert!(
        lab::wait_until(Duration::from_secs(3), || {
            lease_lines(lab.dir()).iter().any(|l| l.contains(&mac_a))
        }),
        "the lease never reached the file"
    );
    Client::Dhclient.release(&a, lab.dir());
    assert!(
        lab::wait_until(Duration::from_secs(3), || {
            !lease_lines(lab.dir()).iter().any(|l| l.contains(&mac_a))
        }),
        "the released lease stays in the file: {:?}\n{}",
        lease_lines(lab.dir()),
        daemon.log_text()
    );
    let lease = Client::Udhcpc.obtain(&b, lab.dir(), &want).unwrap();
    assert_eq!(
        lease.addr, WANTED,
        "the released address goes to the next client"
    );
}

#[test]
fn a_request_for_a_foreign_or_taken_address_is_naked() {
    naks_foreign_requests(Server::NspawnNetd);
}

#[test]
fn dnsmasq_as_reference_naks_foreign_requests() {
    naks_foreign_requests(Server::Dnsmasq);
}

fn naks_foreign_requests(server: Server) {
    let mut lab = Lab::new();
    let mut args = seed_args(lab.dir());
    if let Server::Dnsmasq = server {
        args.push("--dhcp-authoritative".into());
    }
    let c = lab.container("n");
    let daemon = start(&mut lab, server, &args);
    let replies = lab::in_netns(&c, || {
        let sock = dhcp_wire::client_socket("host0");
        let owner = dhcp_wire::acquire(&sock, dhcp_wire::mac(1), 100).expect("a lease");
        // INIT-REBOOT: no server identifier, a requested address.
        let init_reboot = |mac, addr: Ipv4Addr, xid| {
            let mut m = dhcp_wire::request(MessageType::Request, mac, xid);
            m.opts_mut().insert(DhcpOption::RequestedIpAddress(addr));
            dhcp_wire::exchange(&sock, &m, Duration::from_secs(2)).map(|r| dhcp_wire::msg_type(&r))
        };
        [
            init_reboot(dhcp_wire::mac(2), Ipv4Addr::new(10, 9, 9, 9), 200),
            init_reboot(dhcp_wire::mac(3), owner, 300),
            init_reboot(dhcp_wire::mac(1), owner, 400),
        ]
    });
    let log = daemon.log_text();
    assert_eq!(
        replies[0],
        Some(Some(MessageType::Nak)),
        "foreign subnet\n{log}"
    );
    assert_eq!(
        replies[1],
        Some(Some(MessageType::Nak)),
        "someone else's address\n{log}"
    );
    assert_eq!(
        replies[2],
        Some(Some(MessageType::Ack)),
        "the owner's own address\n{log}"
    );
}

#[test]
fn the_pool_runs_out_without_giving_an_address_twice() {
    exhausts_the_pool(Server::NspawnNetd);
}

#[test]
fn dnsmasq_as_reference_exhausts_the_pool() {
    exhausts_the_pool(Server::Dnsmasq);
}

fn exhausts_the_pool(server: Server) {
    let mut lab = Lab::new();
    let args = seed_args(lab.dir());
    let c = lab.container("x");
    let daemon = start(&mut lab, server, &args);
    let (got, last) = lab::in_netns(&c, || {
        let sock = dhcp_wire::client_socket("host0");
        let got: Vec<Option<Ipv4Addr>> = (1..=81u16)
            .map(|n| dhcp_wire::acquire(&sock, dhcp_wire::mac(n), u32::from(n) * 10))
            .collect();
        let discover = dhcp_wire::request(MessageType::Discover, dhcp_wire::mac(82), 9999);
        let last = dhcp_wire::exchange(&sock, &discover, Duration::from_secs(2));
        (got, last)
    });
    let log = daemon.log_text();
    let addrs: Vec<Ipv4Addr> = got
        .iter()
        .enumerate()
        .map(|(i, a)| a.unwrap_or_else(|| panic!("client {} got nothing\n{log}", i + 1)))
        .collect();
    let distinct: HashSet<_> = addrs.iter().collect();
    assert_eq!(distinct.len(), 81, "an address was given twice: {addrs:?}");
    assert!(addrs.iter().all(|a| in_pool(*a)), "{addrs:?}");
    assert!(last.is_none(), "the 82nd client got {last:?}");
    assert!(
        daemon.wait_for_log("no address available", Duration::from_secs(2)),
        "the exhausted pool is not logged:\n{}",
        daemon.log_text()
    );
}

#[test]
fn a_range_outside_the_interface_is_refused_with_a_clear_message() {
    let lab = Lab::new();
    let out = lab.host().run(&[
        env!("CARGO_BIN_EXE_nspawn-netd"),
        "--interface=nat0",
        "--dhcp-range=10.1.2.20-100",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("10.1.2.20") && err.contains("192.168.26.1/24"),
        "{err}"
    );
}

#[test]
fn a_damaged_lease_file_keeps_its_good_leases_and_a_copy_of_the_rest() {
    let mut lab = Lab::new();
    let args = seed_args(lab.dir());
    let c = lab.container("d");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mac = dhcp_wire::mac(5);
    let mac_text = mac.map(|b| format!("{b:02x}")).join(":");
    let text = format!(
        "{} {mac_text} 192.168.26.55 web *\nthis is not a lease\n",
        now + 3600
    );
    std::fs::write(lab.dir().join("leases"), &text).unwrap();
    let daemon = start(&mut lab, Server::NspawnNetd, &args);
    let log = daemon.log_text();
    assert!(
        log.contains("line 2"),
        "the bad line is not reported:\n{log}"
    );
    let got = lab::in_netns(&c, move || {
        let sock = dhcp_wire::client_socket("host0");
        dhcp_wire::acquire(&sock, mac, 7)
    });
    assert_eq!(
        got,
        Some(Ipv4Addr::new(192, 168, 26, 55)),
        "{}",
        daemon.log_text()
    );
    let copies: Vec<_> = std::fs::read_dir(lab.dir())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("leases.damaged-")
        })
        .collect();
    assert_eq!(copies.len(), 1, "no copy of the damaged file");
    assert_eq!(std::fs::read_to_string(copies[0].path()).unwrap(), text);
}

mod options;
mod ranges;
