//! The one error type of the services, by kind: the binary turns the kind
//! into dnsmasq's exit code (1 configuration, 2 network, 3 filesystem,
//! 5 anything else).

use std::io;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The options do not fit together or do not fit the interface.
    #[error("{0}")]
    Config(String),
    /// A socket could not be opened or bound, an interface is missing.
    #[error("{what}: {source}")]
    Network {
        what: String,
        #[source]
        source: io::Error,
    },
    /// A file (lease file, pid file) could not be read or written.
    #[error("{what}: {source}")]
    File {
        what: String,
        #[source]
        source: io::Error,
    },
    /// A task failed for good after the service started.
    #[error("{0}")]
    Fatal(String),
}

impl ServeError {
    pub fn config(msg: impl Into<String>) -> ServeError {
        ServeError::Config(msg.into())
    }

    pub fn network(what: impl Into<String>) -> impl FnOnce(io::Error) -> ServeError {
        let what = what.into();
        move |source| ServeError::Network { what, source }
    }

    pub fn file(what: impl Into<String>) -> impl FnOnce(io::Error) -> ServeError {
        let what = what.into();
        move |source| ServeError::File { what, source }
    }
}
