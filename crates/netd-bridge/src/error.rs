//! The crate's error type.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A netlink socket operation failed (what we were doing, why).
    #[error("{0}: {1}")]
    Netlink(String, #[source] std::io::Error),
    /// The kernel refused one message of an nf_tables transaction.
    #[error("nf_tables refused to {what}: {source}")]
    Nftables {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// An rtnetlink request failed.
    #[error("{what}: {source}")]
    Rtnetlink {
        what: String,
        #[source]
        source: rtnetlink::Error,
    },
    /// Reading or writing a sysctl file failed.
    #[error("sysctl {path}: {source}")]
    Sysctl {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The state file under the state directory could not be read or written.
    #[error("state file {path}: {message}")]
    State { path: PathBuf, message: String },
    /// The host is set up in a way we will not change without being asked.
    #[error("{0}")]
    Conflict(String),
}
