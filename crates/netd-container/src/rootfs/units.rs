//! Enabling systemd units inside a rootfs without running anything in it:
//! the symlinks `systemctl enable` would make, read from each unit's
//! `[Install]` section (`WantedBy=`, `RequiredBy=`, `UpheldBy=`, `Alias=`,
//! and `Also=` followed recursively).
//!
//! [`plan_enable`] is pure (the unit files are looked up through a
//! closure); [`enable`] reads them from the rootfs and makes the links.
//! Template units (`name@.service`) are not handled: there is no instance
//! to enable.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

/// Where unit files are looked up, inside the rootfs, first match wins.
/// Debian before the `/usr` merge keeps them in `/lib`.
pub const UNIT_DIRS: &[&str] = &["usr/lib/systemd/system", "lib/systemd/system"];

/// The `[Install]` section of a unit file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Install {
    pub wanted_by: Vec<String>,
    pub required_by: Vec<String>,
    pub upheld_by: Vec<String>,
    pub alias: Vec<String>,
    pub also: Vec<String>,
}

/// Reads the `[Install]` section (values are space-separated lists; an
/// empty assignment resets the list, as in systemd).
pub fn parse_install(text: &str) -> Install {
    let mut install = Install::default();
    let mut in_install = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            in_install = line == "[Install]";
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if !in_install {
            continue;
        }
        let list = match key.trim() {
            "WantedBy" => &mut install.wanted_by,
            "RequiredBy" => &mut install.required_by,
            "UpheldBy" => &mut install.upheld_by,
            "Alias" => &mut install.alias,
            "Also" => &mut install.also,
            _ => continue,
        };
        let value = value.trim();
        if value.is_empty() {
            list.clear();
        } else {
            list.extend(value.split_whitespace().map(str::to_owned));
        }
    }
    install
}

/// One symlink to make: `link` relative to the rootfs, pointing at
/// `target`, an absolute path as seen inside the container.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnitLink {
    pub link: PathBuf,
    pub target: PathBuf,
}

/// Why a unit cannot be enabled.
#[derive(Debug, thiserror::Error)]
pub enum EnableError {
    #[error(
        "unit {0} is not installed in the rootfs (looked in /usr/lib/systemd/system and /lib/systemd/system)"
    )]
    NotFound(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// The links that enable `units`. `lookup(name)` gives a unit's path inside
/// the container and its text, or `None` when it is not installed; a unit
/// pulled in by `Also=` that is missing or a template is skipped.
pub fn plan_enable<F>(units: &[&str], mut lookup: F) -> Result<Vec<UnitLink>, EnableError>
where
    F: FnMut(&str) -> Option<(PathBuf, String)>,
{
    let mut links = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut queue: Vec<(String, bool)> = units.iter().map(|u| ((*u).to_owned(), true)).collect();
    while let Some((unit, required)) = queue.pop() {
        if !seen.insert(unit.clone()) || unit.contains("@.") {
            continue;
        }
        let Some((path, text)) = lookup(&unit) else {
            if required {
                return Err(EnableError::NotFound(unit));
            }
            continue;
        };
        let install = parse_install(&text);
        let dirs = [
            (&install.wanted_by, "wants"),
            (&install.required_by, "requires"),
            (&install.upheld_by, "upholds"),
        ];
        for (targets, suffix) in dirs {
            for target in targets {
                links.insert(UnitLink {
                    link: Path::new("etc/systemd/system")
                        .join(format!("{target}.{suffix}"))
                        .join(&unit),
                    target: path.clone(),
                });
            }
        }
        for alias in &install.alias {
            links.insert(UnitLink {
                link: Path::new("etc/systemd/system").join(alias),
                target: path.clone(),
            });
        }
        queue.extend(install.also.iter().map(|u| (u.clone(), false)));
    }
    Ok(links.into_iter().collect())
}

/// Enables `units` in the rootfs at `root`; returns the links made
/// (relative to `root`). An existing link is replaced.
pub fn enable(root: &Path, units: &[&str]) -> Result<Vec<UnitLink>, EnableError> {
    let links = plan_enable(units, |unit| {
        UNIT_DIRS.iter().find_map(|dir| {
            let path = root.join(dir).join(unit);
            let text = std::fs::read_to_string(&path).ok()?;
            Some((Path::new("/").join(dir).join(unit), text))
        })
    })?;
    for l in &links {
        let path = root.join(&l.link);
        let io = |source| EnableError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io(e)),
            _ => {}
        }
        std::os::unix::fs::symlink(&l.target, &path).map_err(io)?;
    }
    Ok(links)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NETWORKD: &str = "[Unit]\nDescription=Network Configuration\nWantedBy=nothing.target\n\n\
        [Service]\nType=notify\n\n[Install]\nWantedBy=multi-user.target\n\
        Also=systemd-networkd.socket\nAlias=dbus-org.freedesktop.network1.service\n\
        # comment\nAlso=systemd-network-generator.service\n\
        Also=systemd-networkd-wait-online.service systemd-networkd-wait-online@.service\n";

    fn unit(name: &str) -> Option<(PathBuf, String)> {
        let text = match name {
            "systemd-networkd.service" => NETWORKD,
            "systemd-networkd.socket" => "[Install]\nWantedBy=sockets.target\n",
            "systemd-networkd-wait-online.service" => "[Install]\nWantedBy=network-online.target\n",
            _ => return None,
        };
        Some((Path::new("/lib/systemd/system").join(name), text.to_owned()))
    }

    #[test]
    fn install_section_parses_lists_and_resets() {
        let i = parse_install(
            "[Install]\nWantedBy=a.target b.target\nWantedBy=\nWantedBy=c.target\nRequiredBy=d.target\n",
        );
        assert_eq!(i.wanted_by, ["c.target"]);
        assert_eq!(i.required_by, ["d.target"]);
        assert_eq!(parse_install(NETWORKD).wanted_by, ["multi-user.target"]);
    }

    #[test]
    fn networkd_enables_like_systemctl() {
        let links = plan_enable(&["systemd-networkd.service"], unit).unwrap();
        let got: Vec<(String, String)> = links
            .iter()
            .map(|l| (l.link.display().to_string(), l.target.display().to_string()))
            .collect();
        let l = |link: &str, unit: &str| (link.to_owned(), format!("/lib/systemd/system/{unit}"));
        assert_eq!(
            got,
            [
                l(
                    "etc/systemd/system/dbus-org.freedesktop.network1.service",
                    "systemd-networkd.service"
                ),
                l(
                    "etc/systemd/system/multi-user.target.wants/systemd-networkd.service",
                    "systemd-networkd.service"
                ),
                l(
                    "etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service",
                    "systemd-networkd-wait-online.service"
                ),
                l(
                    "etc/systemd/system/sockets.target.wants/systemd-networkd.socket",
                    "systemd-networkd.socket"
                ),
            ]
        );
    }

    #[test]
    fn a_missing_unit_named_by_the_caller_is_an_error() {
        let err = plan_enable(&["nope.service"], unit).unwrap_err();
        assert!(err.to_string().contains("nope.service"), "{err}");
    }

    #[test]
    fn enable_writes_links_into_a_rootfs() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("usr/lib/systemd/system");
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["systemd-networkd.service", "systemd-networkd.socket"] {
            std::fs::write(dir.join(name), unit(name).unwrap().1).unwrap();
        }
        let links = enable(root.path(), &["systemd-networkd.service"]).unwrap();
        assert_eq!(links.len(), 3);
        let wants = root
            .path()
            .join("etc/systemd/system/multi-user.target.wants/systemd-networkd.service");
        assert_eq!(
            std::fs::read_link(&wants).unwrap(),
            Path::new("/usr/lib/systemd/system/systemd-networkd.service")
        );
        // Idempotent: enabling again replaces the links.
        assert_eq!(
            enable(root.path(), &["systemd-networkd.service"])
                .unwrap()
                .len(),
            3
        );
    }
}
