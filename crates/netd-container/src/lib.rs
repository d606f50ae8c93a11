//! Container bootstrap: debootstrap/pacstrap into `/var/lib/machines/NAME`,
//! the `.nspawn` file and the networking inside the rootfs, so that a new
//! container boots straight onto the nspawn-netd bridge with DHCP and DNS.
//!
//! - [`name`]: machine-name rules (as `machinectl` applies them).
//! - [`distro`]: the bootstrap command for each distribution (pure).
//! - [`progress`]: the bootstrap's phases from its output (pure).
//! - [`runner`]: runs the tool with a log file, progress and cancellation.
//! - [`rootfs`]: the files changed inside the rootfs (networkd enabled,
//!   `host0` by DHCP, hostname, resolv.conf, `ping` capability, root
//!   password), each rendered by a pure function.
//! - [`nspawn_file`]: the `/etc/systemd/nspawn/NAME.nspawn` file.
//! - [`cleanup`]: removing a rootfs (rollback, `container remove`) safely.
//! - [`machines`]: listing machines and telling whether one runs.
//! - [`sys`]: every system call that needs `unsafe`, behind safe functions
//!   (also used by the `nspawn-netd` command line, which has no `unsafe`).
//!
//! This crate runs nothing inside the container, never starts or stops one
//! (the `nspawn-netd` binary does that through `machinectl` or
//! `systemd-nspawn`) and prints nothing; its one signal handler,
//! [`sys::flag_on_signals`], is installed only when the binary asks.

#![deny(unsafe_code)]

pub mod cleanup;
pub mod distro;
pub mod inputs;
pub mod machines;
pub mod name;
pub mod nspawn_file;
pub mod progress;
pub mod rootfs;
pub mod runner;
#[allow(unsafe_code)]
pub mod sys;
