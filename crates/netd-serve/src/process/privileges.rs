//! Serving as an unprivileged user. After every socket is bound, the daemon
//! switches to `-u USER` (`nobody` by default, as dnsmasq is built) and
//! `-g GROUP`, and keeps only the capabilities it still uses:
//! `CAP_NET_ADMIN` (ARP entries for DHCP replies, the neighbour table),
//! `CAP_NET_RAW` (the RA socket, reopened when it fails, and neighbour
//! probes) and `CAP_NET_BIND_SERVICE` (a DNS address bound late).

use std::io;

use super::require_one_thread;
use crate::sys::process as sys;

/// A capability the daemon may keep (numbers from `<linux/capability.h>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    NetBindService = 10,
    NetAdmin = 12,
    NetRaw = 13,
}

/// Who to become.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub uid: u32,
    pub gid: u32,
}

impl Credentials {
    /// Looks `user` (and `group`, else the user's primary group) up.
    pub fn lookup(user: &str, group: Option<&str>) -> io::Result<Credentials> {
        let (uid, primary) =
            sys::user(user)?.ok_or_else(|| io::Error::other(format!("unknown user {user:?}")))?;
        let gid = match group {
            None => primary,
            Some(g) => {
                sys::group(g)?.ok_or_else(|| io::Error::other(format!("unknown group {g:?}")))?
            }
        };
        Ok(Credentials {
            user: user.to_owned(),
            uid,
            gid,
        })
    }
}

/// The id of group `name`.
pub fn group_id(name: &str) -> io::Result<u32> {
    sys::group(name)?.ok_or_else(|| io::Error::other(format!("unknown group {name:?}")))
}

/// Whether the process runs as root (and so can and should drop).
pub fn is_root() -> bool {
    sys::geteuid() == 0
}

/// Becomes `creds`, keeping `keep` as the effective and permitted
/// capabilities. Must run before any other thread exists.
pub fn drop_privileges(creds: &Credentials, keep: &[Capability]) -> io::Result<()> {
    require_one_thread("drop privileges")?;
    sys::switch_user(creds.uid, creds.gid)?;
    let caps = keep.iter().fold(0u64, |acc, c| acc | 1 << (*c as u64));
    sys::set_capabilities(caps)?;
    if sys::getuid() != creds.uid || sys::geteuid() != creds.uid {
        return Err(io::Error::other("the user switch did not take"));
    }
    Ok(())
}

/// Gives `file` to `creds` (a log file the daemon reopens after the switch).
pub fn give_file(file: &std::fs::File, creds: &Credentials) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    sys::fchown(file.as_raw_fd(), creds.uid, creds.gid)
}
