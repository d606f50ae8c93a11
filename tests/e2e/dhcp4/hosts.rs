//! Host entries from files: `--dhcp-hostsfile` (a directory here) re-read
//! on SIGHUP, `--dhcp-hostsdir` followed by inotify without one. A moved
//! entry applies at the client's next DISCOVER. dnsmasq passes the same
//! scenario as the reference.

use std::net::Ipv4Addr;
use std::time::Duration;

use netd_testkit::dhcp_wire;
use netd_testkit::lab::{self, Lab};

use super::{Server, seed_args, start};

fn mac_text(mac: [u8; 6]) -> String {
    mac.map(|b| format!("{b:02x}")).join(":")
}

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 168, 26, last)
}

fn follows_hosts_files(server: Server) {
    let mut lab = Lab::new();
    let c = lab.container("h");
    let (one, two) = (dhcp_wire::mac(1), dhcp_wire::mac(2));
    let file_dir = lab.dir().join("hosts.d");
    let watched = lab.dir().join("watched");
    std::fs::create_dir(&file_dir).unwrap();
    std::fs::create_dir(&watched).unwrap();
    let entry = file_dir.join("a");
    std::fs::write(
        &entry,
        format!("# first host\n{},192.168.26.5\n", mac_text(one)),
    )
    .unwrap();
    let mut args = seed_args(lab.dir());
    args.push(format!("--dhcp-hostsfile={}", file_dir.display()));
    args.push(format!("--dhcp-hostsdir={}", watched.display()));
    let daemon = start(&mut lab, server, &args);
    let acquire = |mac: [u8; 6], xid: u32| {
        lab::in_netns(&c, move || {
            let sock = dhcp_wire::client_socket("host0");
            dhcp_wire::acquire(&sock, mac, xid)
        })
    };
    assert_eq!(acquire(one, 10), Some(ip(5)), "{}", daemon.log_text());

    // The entry moves, with a bad line beside it; SIGHUP re-reads.
    std::fs::write(
        &entry,
        format!("{},192.168.26.6\nnot a host line\n", mac_text(one)),
    )
    .unwrap();
    let before = daemon.log_text().len();
    daemon.signal(libc::SIGHUP);
    let reread = match server {
        Server::NspawnNetd => "host entries and options re-read (SIGHUP)",
        Server::Dnsmasq => "read /",
    };
    assert!(
        lab::wait_until(Duration::from_secs(3), || daemon.log_text()[before..]
            .contains(reread)),
        "{server:?}: no re-read after SIGHUP\n{}",
        daemon.log_text()
    );
    if let Server::NspawnNetd = server {
        let bad = format!("{}:2: not a host line", entry.display());
        assert!(daemon.log_text().contains(&bad), "{}", daemon.log_text());
    }
    assert_eq!(acquire(one, 20), Some(ip(6)), "{}", daemon.log_text());

    // A new file in the watched directory applies without a signal.
    let before = daemon.log_text().len();
    std::fs::write(
        watched.join("b"),
        format!("{},192.168.26.7\n", mac_text(two)),
    )
    .unwrap();
    let picked_up = match server {
        Server::NspawnNetd => "host entries and options re-read (a watched directory changed)",
        Server::Dnsmasq => "read /",
    };
    assert!(
        lab::wait_until(Duration::from_secs(3), || daemon.log_text()[before..]
            .contains(picked_up)),
        "{server:?}: the hostsdir change was not seen\n{}",
        daemon.log_text()
    );
    assert_eq!(acquire(two, 30), Some(ip(7)), "{}", daemon.log_text());
}

#[test]
fn hostsfile_follows_sighup_and_hostsdir_follows_inotify() {
    follows_hosts_files(Server::NspawnNetd);
}

#[test]
fn dnsmasq_as_reference_follows_hosts_files() {
    follows_hosts_files(Server::Dnsmasq);
}

#[test]
fn a_bad_dhcp_host_on_the_command_line_stops_the_start_naming_it() {
    let lab = Lab::new();
    let out = lab.host().run(&[
        env!("CARGO_BIN_EXE_nspawn-netd"),
        "--interface=nat0",
        "--dhcp-range=192.168.26.20,192.168.26.100",
        "--domain=lab.example",
        "--dhcp-host=52:54:00:00:00:01,web.other.example",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--dhcp-host=52:54:00:00:00:01,web.other.example")
            && err.contains("lab.example"),
        "{err}"
    );
}

/// The NTP servers (option 42) of the ACK `mac` gets.
fn ntp_in_ack(c: &lab::Netns, mac: [u8; 6], xid: u32) -> Option<Vec<Ipv4Addr>> {
    use dhcproto::v4::{DhcpOption, MessageType, OptionCode};
    lab::in_netns(c, move || {
        let sock = dhcp_wire::client_socket("host0");
        let d = dhcp_wire::request(MessageType::Discover, mac, xid);
        let offer = dhcp_wire::exchange(&sock, &d, Duration::from_secs(2))?;
        let mut r = dhcp_wire::request(MessageType::Request, mac, xid + 1);
        r.opts_mut()
            .insert(DhcpOption::RequestedIpAddress(offer.yiaddr()));
        r.opts_mut()
            .insert(DhcpOption::ServerIdentifier(dhcp_wire::server_id(&offer)?));
        let ack = dhcp_wire::exchange(&sock, &r, Duration::from_secs(2))?;
        match ack.opts().get(OptionCode::NtpServers) {
            Some(DhcpOption::NtpServers(a)) => Some(a.clone()),
            _ => Some(Vec::new()),
        }
    })
}

#[test]
fn optsfile_follows_sighup_and_optsdir_follows_inotify() {
    let mut lab = Lab::new();
    let c = lab.container("o");
    let file = lab.dir().join("opts");
    let watched = lab.dir().join("opts.d");
    std::fs::create_dir(&watched).unwrap();
    std::fs::write(&file, "# time\noption:ntp-server,192.168.26.9\n").unwrap();
    let mut args = seed_args(lab.dir());
    args.push(format!("--dhcp-optsfile={}", file.display()));
    args.push(format!("--dhcp-optsdir={}", watched.display()));
    let daemon = start(&mut lab, Server::NspawnNetd, &args);
    let mac = dhcp_wire::mac(4);
    assert_eq!(
        ntp_in_ack(&c, mac, 10),
        Some(vec![ip(9)]),
        "{}",
        daemon.log_text()
    );

    std::fs::write(&file, "option:ntp-server,192.168.26.10\nnot-an-option\n").unwrap();
    let before = daemon.log_text().len();
    daemon.signal(libc::SIGHUP);
    assert!(
        lab::wait_until(Duration::from_secs(3), || daemon.log_text()[before..]
            .contains("options re-read (SIGHUP)")),
        "{}",
        daemon.log_text()
    );
    let bad = format!("{}:2: not-an-option", file.display());
    assert!(daemon.log_text().contains(&bad), "{}", daemon.log_text());
    assert_eq!(
        ntp_in_ack(&c, mac, 20),
        Some(vec![ip(10)]),
        "{}",
        daemon.log_text()
    );

    // A file in the watched directory: a later option 42 replaces it.
    std::fs::write(&file, "").unwrap();
    let before = daemon.log_text().len();
    std::fs::write(watched.join("ntp"), "42,192.168.26.11\n").unwrap();
    assert!(
        lab::wait_until(Duration::from_secs(3), || daemon.log_text()[before..]
            .contains("options re-read (a watched directory changed)")),
        "{}",
        daemon.log_text()
    );
    assert_eq!(
        ntp_in_ack(&c, mac, 30),
        Some(vec![ip(11)]),
        "{}",
        daemon.log_text()
    );
}
