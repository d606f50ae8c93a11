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
        Server::NspawnNetd => "host entries re-read (SIGHUP)",
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
        Server::NspawnNetd => "host entries re-read (a --dhcp-hostsdir changed)",
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
