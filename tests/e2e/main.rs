//! End-to-end tests: each builds its own network namespaces (see `lab`), runs
//! `nspawn-netd` and real clients in them, and tears everything down.

mod lab;
mod lab_selftest;
