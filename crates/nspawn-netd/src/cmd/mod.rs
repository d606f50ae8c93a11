//! Subcommands other than the daemon itself, one file each.

pub mod doctor;
pub mod down;
pub mod up;
