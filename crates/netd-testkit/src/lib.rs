//! The test lab shared by `tests/` and `benches/`: network namespaces made
//! for one test ([`lab`]), real DHCP clients ([`clients`]), a bare DHCPv4
//! client for precise cases ([`dhcp_wire`]), DNS messages built by an
//! independent encoder ([`dns_messages`]), an nsd upstream ([`nsd`]) and
//! private mount namespaces for running real callers of dnsmasq with the
//! binary under test in its place ([`private_mounts`]), and packets a
//! misbehaving container forges ([`forged`]).
//!
//! Only tests and benches depend on this crate. Nothing here is ever linked
//! to the machine's own network namespace.

pub mod clients;
pub mod dhcp_wire;
pub mod dns_messages;
pub mod forged;
pub mod lab;
pub mod nsd;
pub mod private_mounts;
