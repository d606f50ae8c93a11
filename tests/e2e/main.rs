//! End-to-end tests: each builds its own network namespaces (see `lab`), runs
//! `nspawn-netd` and real clients in them, and tears everything down.

// Test modules share helpers with `pub`; the crate itself is never a library.
#![allow(unreachable_pub)]

mod bridge;
mod callers;
mod container;
mod dhcp4;
mod dns;
mod durability;
mod ipv6;
mod lab_selftest;
mod operator;
mod process;
