//! Range forms beyond a plain pool, against nspawn-netd and dnsmasq.

use std::net::Ipv4Addr;

use netd_testkit::clients::{Client, Run};
use netd_testkit::lab::Lab;

use super::{Server, seed_args_with_range, start_until};

const RESERVED: Ipv4Addr = Ipv4Addr::new(192, 168, 26, 50);

#[test]
fn a_static_range_serves_reserved_hosts_only() {
    for server in [Server::NspawnNetd, Server::Dnsmasq] {
        let mut lab = Lab::new();
        let (known, stranger) = (lab.container("known"), lab.container("strng"));
        let mut args = seed_args_with_range(lab.dir(), "192.168.26.0,static,255.255.255.0,12h");
        args.push(format!(
            "--dhcp-host={},{RESERVED}",
            known.mac_string("host0")
        ));
        let daemon = start_until(&mut lab, server, &args, "static leases only");
        let lease = Client::Udhcpc
            .obtain(&known, lab.dir(), &Run::default())
            .unwrap_or_else(|e| panic!("{server:?}: {e}\n{}", daemon.log_text()));
        assert_eq!(lease.addr, RESERVED, "{server:?}");
        let none = Client::Udhcpc.obtain(&stranger, lab.dir(), &Run::default());
        assert!(none.is_err(), "{server:?} served a stranger: {none:?}");
    }
}
