//! Pool addresses probed free ahead of demand: a container that set half
//! the pool's addresses by hand never has one of them handed to another
//! client, and a new client still gets its lease at once (dnsmasq pings
//! first and delays every new client by about three seconds).

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use netd_testkit::dhcp_wire;
use netd_testkit::lab::{Lab, in_netns};

#[test]
fn an_address_set_by_hand_is_never_offered_and_new_clients_do_not_wait() {
    let mut lab = Lab::new();
    let squatter = lab.container("sq");
    for last in 20..30 {
        squatter.run_ok(&[
            "ip",
            "addr",
            "add",
            &format!("192.168.26.{last}/24"),
            "dev",
            "host0",
        ]);
    }
    let daemon = lab.start_daemon(&[
        "--interface=nat0",
        "--dhcp-range=192.168.26.20,192.168.26.39,12h",
    ]);
    // The probes run in the background from the start.
    let squatter_mac = squatter.mac_string("host0");
    assert!(
        daemon.wait_for_log(
            &format!("at {squatter_mac} without a lease"),
            Duration::from_secs(10)
        ),
        "{}",
        daemon.log_text()
    );
    std::thread::sleep(Duration::from_secs(4));
    let client = lab.container("cl");
    let got = in_netns(&client, || {
        let sock = dhcp_wire::client_socket("host0");
        (1..=6u16)
            .map(|n| {
                let start = Instant::now();
                let addr = dhcp_wire::acquire(&sock, dhcp_wire::mac(n), 0x5eed_0000 + u32::from(n));
                (addr, start.elapsed())
            })
            .collect::<Vec<_>>()
    });
    for (addr, took) in &got {
        let addr: Ipv4Addr = addr.unwrap_or_else(|| panic!("no lease:\n{}", daemon.log_text()));
        assert!(
            (30..40).contains(&addr.octets()[3]),
            "{addr} is set by hand on the squatter:\n{}",
            daemon.log_text()
        );
        eprintln!("{addr} in {took:?}");
        assert!(
            *took < Duration::from_millis(100),
            "DISCOVER to ACK took {took:?}"
        );
    }
}
