//! dnsmasq's exit codes, which its callers read: 1 a bad configuration,
//! 2 a network problem (bind, missing interface), 3 a filesystem problem
//! (lease file, pid file), 4 out of memory, 5 anything else.

use std::fmt;

use netd_serve::ServeError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Config = 1,
    Network = 2,
    File = 3,
    Memory = 4,
    Other = 5,
}

/// An error and the exit code it ends the process with.
#[derive(Debug)]
pub struct Failure {
    pub code: Code,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn new(code: Code, error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code,
            error: error.into(),
        }
    }

    pub fn config(msg: impl fmt::Display) -> Failure {
        Failure::new(Code::Config, anyhow::anyhow!("{msg}"))
    }

    pub fn network(error: impl Into<anyhow::Error>) -> Failure {
        Failure::new(Code::Network, error)
    }

    pub fn file(error: impl Into<anyhow::Error>) -> Failure {
        Failure::new(Code::File, error)
    }

    pub fn other(error: impl Into<anyhow::Error>) -> Failure {
        Failure::new(Code::Other, error)
    }
}

impl From<ServeError> for Failure {
    fn from(e: ServeError) -> Failure {
        let code = match &e {
            ServeError::Config(_) => Code::Config,
            ServeError::Network { .. } => Code::Network,
            ServeError::File { .. } => Code::File,
            _ => Code::Other,
        };
        Failure::new(code, e)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Failure {
        Failure::new(Code::Other, error)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}
