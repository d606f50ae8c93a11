//! Router Advertisements' shell: [`icmp_socket`] (a raw ICMPv6 socket on one
//! interface) and [`shell`] (the task that sends what
//! `netd_proto::ra::Scheduler` decides).

pub(crate) mod icmp_socket;
pub mod shell;

pub use shell::RaSender;
