//! Where a setting came from, so that every error about it can say so.
//!
//! The binary parses each option source (the command line, dnsmasq-style
//! files, the TOML file) once into typed values; each keeps its [`Origin`]
//! and the text as written, and a service's plan names both when the value
//! does not fit the interface.

use std::fmt;
use std::path::PathBuf;

/// Where an option was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// On the command line.
    CommandLine,
    /// Line `line` (1-based) of a configuration file.
    File { path: PathBuf, line: usize },
    /// Filled in by the program: which part, e.g. `up`.
    Default(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::CommandLine => f.write_str("command line"),
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Default(what) => write!(f, "default of {what}"),
        }
    }
}

/// A parsed option value, its option name, the text as written and where
/// it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    /// The long option name, without dashes: `dhcp-range`.
    pub option: &'static str,
    pub text: String,
    pub origin: Origin,
}

impl<T> Sourced<T> {
    pub fn new(value: T, option: &'static str, text: impl Into<String>, origin: Origin) -> Self {
        Sourced {
            value,
            option,
            text: text.into(),
            origin,
        }
    }

    /// A value the program chose itself.
    pub fn default_of(
        value: T,
        option: &'static str,
        text: impl Into<String>,
        what: &'static str,
    ) -> Self {
        Sourced::new(value, option, text, Origin::Default(what))
    }

    /// `FILE:LINE: --option=text`, or `--option=text` from the command line:
    /// the start of an error message about this value.
    pub fn describe(&self) -> String {
        match &self.origin {
            Origin::CommandLine => format!("--{}={}", self.option, self.text),
            o => format!("{o}: --{}={}", self.option, self.text),
        }
    }
}
