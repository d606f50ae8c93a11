//! Subcommands other than the daemon, one module each.

pub mod container;
pub mod ra;
