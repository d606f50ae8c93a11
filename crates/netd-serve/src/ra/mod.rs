//! Router Advertisements' shell: [`icmp_socket`] (a raw ICMPv6 socket on one
//! interface) and [`shell`] (the task that sends what
//! `netd_proto::ra::Scheduler` decides).

mod dhcp6_options;
pub(crate) mod icmp_socket;
pub(crate) mod service;
pub(crate) mod shell;

pub use service::{
    Ipv6Bound, Ipv6Mode, Ipv6Plan, Ipv6Range, Ipv6Settings, PrefixSpec, RaParam, plan,
};
pub use shell::RaSender;
