//! Everything `container create` changes inside a fresh rootfs, without
//! running anything in it: systemd-networkd enabled, `host0` configured by
//! DHCP, hostname, resolv.conf, `ping`'s capability, the root password.
//!
//! Each piece is a pure function (in the submodules) plus one write here;
//! [`configure`] does them all and reports what it did.

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub mod capability;
pub mod files;
pub mod network;
pub mod shadow;
pub mod units;

use capability::PingCaps;

/// What to set up in the rootfs.
#[derive(Debug, Clone)]
pub struct RootfsConfig {
    /// The machine name: `/etc/hostname`, hence its DHCP hostname.
    pub name: String,
    /// The bridge's DNS addresses, written to `/etc/resolv.conf`.
    pub dns: Vec<IpAddr>,
    /// A `$6$` hash for root, or `None` to leave the account as it is.
    pub root_password_hash: Option<String>,
    /// Days since 1970-01-01, the shadow file's "last changed" field.
    pub today: u64,
}

/// What [`configure`] did, for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootfsReport {
    /// The unit links made to enable systemd-networkd (relative to root).
    pub enabled: Vec<PathBuf>,
    /// `true` when the distribution's own `80-container-host0.network` is
    /// used, `false` when ours was written.
    pub stock_host0_network: bool,
    pub ping: PingCaps,
    pub root_password_set: bool,
}

/// A step of [`configure`] failed.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("enabling systemd-networkd: {0}")]
    Enable(#[from] units::EnableError),
    #[error("{what} ({path}): {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("setting the root password: {0}")]
    Shadow(#[from] shadow::ShadowError),
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> RootfsError {
    let path = path.to_owned();
    move |source| RootfsError::Io { what, path, source }
}

/// Sets up the rootfs at `root` for a networked first boot.
pub fn configure(root: &Path, config: &RootfsConfig) -> Result<RootfsReport, RootfsError> {
    let enabled = units::enable(root, &["systemd-networkd.service"])?
        .into_iter()
        .map(|l| l.link)
        .collect();

    let stock_host0_network = network::STOCK_HOST0_NETWORK
        .iter()
        .any(|p| files::resolve_in(root, Path::new(p)).is_ok_and(|p| p.is_file()));
    if !stock_host0_network {
        let rel = Path::new(network::HOST0_NETWORK);
        files::write_in(root, rel, network::host0_network().as_bytes(), 0o644)
            .map_err(io_err("writing the host0 network file", rel))?;
    }

    let write = |rel: &str, text: String, what: &'static str| {
        files::write_in(root, Path::new(rel), text.as_bytes(), 0o644)
            .map_err(io_err(what, Path::new(rel)))
    };
    write(
        "etc/hostname",
        network::hostname(&config.name),
        "writing /etc/hostname",
    )?;
    write(
        "etc/resolv.conf",
        network::resolv_conf(&config.dns),
        "writing /etc/resolv.conf",
    )?;
    let hosts = files::resolve_in(root, Path::new("etc/hosts"))
        .map_err(io_err("reading /etc/hosts", Path::new("etc/hosts")))?;
    if !hosts.exists() {
        write(
            "etc/hosts",
            network::hosts(&config.name),
            "writing /etc/hosts",
        )?;
    }

    let ping_rel = Path::new("usr/bin/ping");
    let ping = files::resolve_in(root, ping_rel)
        .and_then(|p| capability::grant_net_raw(&p))
        .map_err(io_err("setting cap_net_raw on ping", ping_rel))?;

    let root_password_set = match &config.root_password_hash {
        None => false,
        Some(hash) => {
            let rel = Path::new("etc/shadow");
            let path = files::resolve_in(root, rel).map_err(io_err("reading /etc/shadow", rel))?;
            let text =
                std::fs::read_to_string(&path).map_err(io_err("reading /etc/shadow", rel))?;
            let new = shadow::set_password(&text, "root", hash, config.today)?;
            files::write_in(root, rel, new.as_bytes(), 0o640)
                .map_err(io_err("writing /etc/shadow", rel))?;
            true
        }
    };

    Ok(RootfsReport {
        enabled,
        stock_host0_network,
        ping,
        root_password_set,
    })
}

#[cfg(test)]
mod tests;
