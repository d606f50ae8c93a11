//! Subcommands other than the daemon, one file each.

pub mod ra;
