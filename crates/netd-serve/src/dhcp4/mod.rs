//! The DHCPv4 server's shell: [`hosts`] (host entries from files, re-read
//! on SIGHUP or inotify), [`socket`] (port 67 on one interface, replies
//! delivered as RFC 2131 §4.1 says, ARP entries), [`journal`] (the lease
//! journal: appends, slots, snapshots, recovery), [`lease_store`] (dnsmasq's
//! lease file, read once and kept up to date for other tools), [`persist`]
//! (the background jobs that write them) and [`shell`] (the task that ties
//! them to `netd_proto::dhcp4::Server` and publishes hostnames, and the leases to
//! [`view`]).

pub(crate) mod arp_probe;
pub(crate) mod hosts;
pub mod journal;
pub(crate) mod lease_store;
pub mod persist;
pub(crate) mod script;
pub(crate) mod service;
pub(crate) mod shell;
pub(crate) mod socket;
pub(crate) mod view;

pub use hosts::{HostsFiles, OptionParser, OptsFiles, ParseLine};
pub use lease_store::LeaseStore;
pub use service::{Dhcp4Bound, Dhcp4Plan, Dhcp4Settings, Ipv4Range, plan};
pub use shell::Dhcp4Shell;
pub use socket::Dhcp4Socket;
pub use view::LeaseView;
