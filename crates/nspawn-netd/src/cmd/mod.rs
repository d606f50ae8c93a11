//! Subcommands other than the daemon, one module each.

pub mod container;
pub mod doctor;
pub mod down;
pub mod ra;
pub mod shell;
pub mod status;
pub mod up;
