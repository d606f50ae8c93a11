//! Stateless DHCPv6's shell: the UDP socket on port 547 of the interface,
//! feeding `netd_proto::dhcp6::Dhcp6Server`.

pub(crate) mod shell;

pub(crate) use shell::Dhcp6Shell;
