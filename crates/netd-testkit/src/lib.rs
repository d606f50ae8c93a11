//! The test lab shared by `tests/` and `benches/`: network namespaces made
//! for one test ([`lab`]), real DHCP clients ([`clients`]), a bare DHCPv4
//! client for precise cases ([`dhcp_wire`]) and an nsd upstream ([`nsd`]).
//!
//! Only tests and benches depend on this crate. Nothing here is ever linked
//! to the machine's own network namespace.

pub mod clients;
pub mod dhcp_wire;
pub mod lab;
pub mod nsd;
