//! More IPv4 ranges than one: a subnet behind a relay agent (Debian's
//! `dhcrelay` forwarding for a client namespace on its far side), chosen by
//! giaddr, and a second subnet on the interface itself. Both against
//! nspawn-netd and dnsmasq with the same options.

use std::net::Ipv4Addr;
use std::process::Child;

use netd_testkit::clients::{Client, Run};
use netd_testkit::lab::{Lab, Netns};

use super::{BRIDGE, Server, in_pool, seed_args, seed_args_with_range, start};

/// The relay agent's address on the far subnet (giaddr).
const RELAY: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
const FAR_RANGE: &str = "--dhcp-range=10.77.0.50,10.77.0.60,255.255.255.0,2h";

/// A process killed when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A router namespace on nat0 (192.168.26.2) running dhcrelay towards the
/// server, and a client namespace on its far link (10.77.0.0/24).
fn relayed_client(lab: &mut Lab) -> (Netns, Reaped) {
    let router = lab.container("rtr");
    router.add_host0_addr("192.168.26.2/24");
    let far = lab.container("far");
    // The far client's host0 leads to the router instead of nat0.
    lab.unplug(&far);
    router.run_ok(&[
        "ip", "link", "add", "far0", "type", "veth", "peer", "name", "host0", "netns", &far.name,
    ]);
    router.run_ok(&["ip", "addr", "add", "10.77.0.1/24", "dev", "far0"]);
    router.run_ok(&["ip", "link", "set", "far0", "up"]);
    far.run_ok(&["ip", "link", "set", "host0", "up"]);
    router.run_ok(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    lab.host()
        .run_ok(&["ip", "route", "add", "10.77.0.0/24", "via", "192.168.26.2"]);
    // -d: foreground; -iu/-id: the upstream and downstream interfaces.
    let relay = router.spawn(&[
        "dhcrelay",
        "-d",
        "-q",
        "-4",
        "-iu",
        "host0",
        "-id",
        "far0",
        "192.168.26.1",
    ]);
    (far, Reaped(relay))
}

#[test]
fn a_second_range_is_served_to_a_relay() {
    for server in [Server::NspawnNetd, Server::Dnsmasq] {
        let mut lab = Lab::new();
        let (far, _relay) = relayed_client(&mut lab);
        let near = lab.container("near");
        let mut args = seed_args(lab.dir());
        args.push(FAR_RANGE.into());
        let daemon = start(&mut lab, server, &args);
        let lease = Client::Udhcpc
            .obtain(&far, lab.dir(), &Run::default())
            .unwrap_or_else(|e| panic!("{server:?}: {e}\n{}", daemon.log_text()));
        let o = lease.addr.octets();
        assert!(
            o[..3] == [10, 77, 0] && (50..=60).contains(&o[3]),
            "{server:?}: {lease:?}"
        );
        // The relay is the far subnet's router; DNS stays the server.
        assert_eq!(lease.routers, [RELAY], "{server:?}: {lease:?}");
        assert_eq!(lease.netmask, Some(Ipv4Addr::new(255, 255, 255, 0)));
        assert_eq!(lease.lease_secs, Some(7200), "{server:?}: {lease:?}");
        assert_eq!(lease.dns, [BRIDGE], "{server:?}: {lease:?}");
        // The link's own clients still get nat0's range.
        let lease = Client::Dhclient
            .obtain(&near, lab.dir(), &Run::default())
            .unwrap_or_else(|e| panic!("{server:?}: {e}\n{}", daemon.log_text()));
        assert!(in_pool(lease.addr), "{server:?}: {lease:?}");
        assert_eq!(lease.routers, [BRIDGE], "{server:?}: {lease:?}");
    }
}

#[test]
fn a_relay_on_a_subnet_without_a_range_is_not_served() {
    let mut lab = Lab::new();
    let (far, _relay) = relayed_client(&mut lab);
    let args = seed_args(lab.dir());
    let daemon = start(&mut lab, Server::NspawnNetd, &args);
    let got = Client::Udhcpc.obtain(&far, lab.dir(), &Run::default());
    assert!(got.is_err(), "served without a range: {got:?}");
    assert!(
        daemon.wait_for_log("relay agent 10.77.0.1", std::time::Duration::from_secs(5)),
        "no warning naming the relay:\n{}",
        daemon.log_text()
    );
}

#[test]
fn a_second_subnet_on_the_interface_takes_clients_when_the_first_is_full() {
    for server in [Server::NspawnNetd, Server::Dnsmasq] {
        let mut lab = Lab::new();
        lab.host()
            .run_ok(&["ip", "addr", "add", "172.20.0.1/24", "dev", "nat0"]);
        let (first, second) = (lab.container("one"), lab.container("two"));
        // One address in the first range: two clients need both subnets
        // (nspawn-netd) or at least the second (dnsmasq).
        let mut args = seed_args_with_range(lab.dir(), "192.168.26.20,192.168.26.20,12h");
        args.push("--dhcp-range=172.20.0.10,172.20.0.20,12h".into());
        let daemon = start(&mut lab, server, &args);
        let one = Client::Udhcpc
            .obtain(&first, lab.dir(), &Run::default())
            .unwrap_or_else(|e| panic!("{server:?}: {e}\n{}", daemon.log_text()));
        let two = Client::Udhcpc
            .obtain(&second, lab.dir(), &Run::default())
            .unwrap_or_else(|e| panic!("{server:?}: {e}\n{}", daemon.log_text()));
        assert_ne!(one.addr, two.addr, "{server:?}");
        let second_net = |a: Ipv4Addr| {
            let o = a.octets();
            o[..3] == [172, 20, 0] && (10..=20).contains(&o[3])
        };
        for lease in [&one, &two] {
            if lease.addr == Ipv4Addr::new(192, 168, 26, 20) {
                assert_eq!(lease.routers, [BRIDGE], "{server:?}: {lease:?}");
            } else {
                assert!(second_net(lease.addr), "{server:?}: {lease:?}");
                // That subnet's router is our address on it.
                let ours = Ipv4Addr::new(172, 20, 0, 1);
                assert_eq!(lease.routers, [ours], "{server:?}: {lease:?}");
            }
        }
        // nspawn-netd fills the ranges in the order given; dnsmasq's order
        // is its own (it gave both clients the second subnet here).
        if let Server::NspawnNetd = server {
            assert_eq!(one.addr, Ipv4Addr::new(192, 168, 26, 20));
            assert!(second_net(two.addr), "{two:?}");
        }
    }
}
