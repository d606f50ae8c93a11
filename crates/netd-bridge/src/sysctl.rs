//! Forwarding and `accept_ra` sysctls: a pure plan of what to change (old
//! value → new value), and plain reads and writes under a `/proc/sys` root
//! (per network namespace for `net.*`).
//!
//! Turning IPv6 forwarding on makes the kernel ignore router advertisements
//! on every interface whose `accept_ra` is 1, and the host loses its
//! RA-learned default route. Uplinks with such a route get `accept_ra=2`
//! first, before forwarding goes on.
//!
//! Writing `conf/all/forwarding` makes the kernel set `forwarding` on every
//! interface too; the per-interface values it overwrites are recorded (as
//! if we wrote them ourselves, just before `all`) so that `down` can put
//! them back after restoring `all`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;

/// One sysctl change, with the value it replaced so it can be restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SysctlChange {
    /// The key as a path under `/proc/sys`, e.g. `net/ipv4/conf/all/forwarding`.
    pub key: String,
    pub old: String,
    pub new: String,
}

/// The forwarding keys, IPv4 then IPv6.
pub fn forwarding_keys(ipv6: bool) -> Vec<String> {
    let mut keys = vec![
        "net/ipv4/conf/all/forwarding".to_string(),
        "net/ipv4/conf/default/forwarding".to_string(),
    ];
    if ipv6 {
        keys.push("net/ipv6/conf/all/forwarding".into());
        keys.push("net/ipv6/conf/default/forwarding".into());
    }
    keys
}

pub fn accept_ra_key(iface: &str) -> String {
    format!("net/ipv6/conf/{iface}/accept_ra")
}

/// The changes to make, in order: `accept_ra=2` on each interface in
/// `ra_default_ifaces` (those with an RA-learned default route) whose
/// `accept_ra` is 1, then forwarding on — each interface of `ifaces` when
/// `all` is about to change (the kernel rewrites them all), then `all`,
/// then `default`. `read`
/// returns a key's current value (trimmed), `None` when it does not exist.
pub fn plan_sysctls(
    ipv6: bool,
    ra_default_ifaces: &[String],
    ifaces: &[String],
    read: impl Fn(&str) -> Option<String>,
) -> Vec<SysctlChange> {
    let mut out = Vec::new();
    if ipv6 {
        for iface in ra_default_ifaces {
            let key = accept_ra_key(iface);
            if let Some(old) = read(&key)
                && old == "1"
            {
                out.push(SysctlChange {
                    key,
                    old,
                    new: "2".into(),
                });
            }
        }
    }
    // `always`: record even a value that is on already.
    let on = |out: &mut Vec<SysctlChange>, key: String, always: bool| {
        if let Some(old) = read(&key)
            && (always || old != "1")
        {
            out.push(SysctlChange {
                key,
                old,
                new: "1".into(),
            });
        }
    };
    let families: &[&str] = if ipv6 { &["ipv4", "ipv6"] } else { &["ipv4"] };
    for family in families {
        let all = format!("net/{family}/conf/all/forwarding");
        if read(&all).is_some_and(|v| v != "1") {
            // Every interface's value, even one already on: restoring `all`
            // resets them all, so down must put each back after it.
            for iface in ifaces {
                on(
                    &mut out,
                    format!("net/{family}/conf/{iface}/forwarding"),
                    true,
                );
            }
        }
        on(&mut out, all, false);
        on(
            &mut out,
            format!("net/{family}/conf/default/forwarding"),
            false,
        );
    }
    out
}

/// True for a key of one interface (not `all` or `default`): it may vanish
/// with its interface.
pub fn is_per_interface(key: &str) -> bool {
    let parts: Vec<&str> = key.split('/').collect();
    matches!(parts.as_slice(), ["net", _, "conf", iface, _] if *iface != "all" && *iface != "default")
}

/// Whether `key` is one `up` writes, and so one `down` may write back:
/// `forwarding` of `all`, `default` or one interface (IPv4 and IPv6), or
/// `accept_ra` of one interface (IPv6). Anything else read from a state
/// file (another key, `..`, an absolute path) is refused.
pub fn is_written_by_up(key: &str) -> bool {
    let parts: Vec<&str> = key.split('/').collect();
    match parts.as_slice() {
        ["net", "ipv4" | "ipv6", "conf", iface, "forwarding"] => {
            matches!(*iface, "all" | "default") || is_interface_name(iface)
        }
        ["net", "ipv6", "conf", iface, "accept_ra"] => {
            !matches!(*iface, "all" | "default") && is_interface_name(iface)
        }
        _ => false,
    }
}

/// A name the kernel accepts for an interface (`dev_valid_name`): 1 to 15
/// bytes, not `.` or `..`, no `/`, `:`, NUL or whitespace.
pub fn is_interface_name(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b == 0 || b.is_ascii_whitespace())
}

/// Whether `value` looks like what the kernel gives for the keys `up`
/// writes: a small decimal number.
pub fn is_plain_value(value: &str) -> bool {
    (1..=10).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit())
}

/// Reads and writes sysctls under a root (normally `/proc/sys`; tests use
/// a directory of their own).
#[derive(Debug, Clone)]
pub struct Sysctls {
    pub root: PathBuf,
}

impl Default for Sysctls {
    fn default() -> Self {
        Sysctls {
            root: PathBuf::from("/proc/sys"),
        }
    }
}

impl Sysctls {
    fn path(&self, key: &str) -> PathBuf {
        self.root.join(Path::new(key))
    }

    pub fn read(&self, key: &str) -> Option<String> {
        std::fs::read_to_string(self.path(key))
            .ok()
            .map(|s| s.trim().to_string())
    }

    /// The interfaces of a family (`ipv4`, `ipv6`) as the sysctl tree lists them.
    pub fn interfaces(&self, family: &str) -> Vec<String> {
        let mut out: Vec<String> =
            std::fs::read_dir(self.root.join("net").join(family).join("conf"))
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n != "all" && n != "default")
                .collect();
        out.sort();
        out
    }

    pub fn write(&self, key: &str, value: &str) -> Result<(), Error> {
        let path = self.path(key);
        std::fs::write(&path, format!("{value}\n")).map_err(|source| Error::Sysctl { path, source })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn reader(map: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = map
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn forwarding_off_is_turned_on_and_old_values_kept() {
        let read = reader(&[
            ("net/ipv4/conf/all/forwarding", "0"),
            ("net/ipv4/conf/default/forwarding", "1"),
            ("net/ipv6/conf/all/forwarding", "0"),
            ("net/ipv6/conf/default/forwarding", "0"),
        ]);
        let plan = plan_sysctls(true, &[], &[], read);
        let keys: Vec<_> = plan
            .iter()
            .map(|c| (c.key.as_str(), c.old.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("net/ipv4/conf/all/forwarding", "0"),
                ("net/ipv6/conf/all/forwarding", "0"),
                ("net/ipv6/conf/default/forwarding", "0"),
            ]
        );
    }

    #[test]
    fn accept_ra_goes_to_2_on_ra_uplinks_before_forwarding() {
        let read = reader(&[
            ("net/ipv6/conf/eth0/accept_ra", "1"),
            ("net/ipv6/conf/wlan0/accept_ra", "2"),
            ("net/ipv6/conf/all/forwarding", "0"),
        ]);
        let plan = plan_sysctls(true, &["eth0".into(), "wlan0".into()], &[], read);
        assert_eq!(plan[0].key, "net/ipv6/conf/eth0/accept_ra");
        assert_eq!(plan[0].new, "2");
        assert_eq!(plan[1].key, "net/ipv6/conf/all/forwarding");
        assert_eq!(plan.len(), 2);
    }

    #[test]
    fn without_ipv6_nothing_ipv6_is_touched() {
        let read = reader(&[
            ("net/ipv6/conf/eth0/accept_ra", "1"),
            ("net/ipv6/conf/all/forwarding", "0"),
            ("net/ipv4/conf/all/forwarding", "0"),
        ]);
        let plan = plan_sysctls(false, &["eth0".into()], &[], read);
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].key, "net/ipv4/conf/all/forwarding");
    }

    #[test]
    fn all_set_already_means_no_change() {
        let read = |_: &str| Some("1".to_string());
        assert!(plan_sysctls(true, &[], &["eth0".into()], read).is_empty());
    }

    #[test]
    fn every_interface_is_recorded_before_all_forwarding_changes() {
        let read = reader(&[
            ("net/ipv4/conf/all/forwarding", "0"),
            ("net/ipv4/conf/eth0/forwarding", "1"),
            ("net/ipv4/conf/lo/forwarding", "0"),
            ("net/ipv4/conf/default/forwarding", "0"),
        ]);
        let plan = plan_sysctls(false, &[], &["eth0".into(), "lo".into()], read);
        let keys: Vec<_> = plan.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "net/ipv4/conf/eth0/forwarding",
                "net/ipv4/conf/lo/forwarding",
                "net/ipv4/conf/all/forwarding",
                "net/ipv4/conf/default/forwarding"
            ]
        );
        assert_eq!(plan[0].old, "1");
        assert!(is_per_interface("net/ipv4/conf/lo/forwarding"));
        assert!(!is_per_interface("net/ipv4/conf/all/forwarding"));
        assert!(!is_per_interface("net/ipv6/conf/default/forwarding"));
    }

    #[test]
    fn every_key_the_plan_writes_passes_the_check_and_others_do_not() {
        let read = |_: &str| Some("0".to_string());
        let ifaces = ["eth0".to_string(), "br-1.100".to_string()];
        let plan = plan_sysctls(true, &ifaces, &ifaces, read);
        assert!(plan.len() > 4);
        for c in &plan {
            assert!(is_written_by_up(&c.key), "{}", c.key);
            assert!(is_plain_value(&c.old) && is_plain_value(&c.new));
        }
        for key in [
            "net/ipv4/conf/all/rp_filter",
            "net/ipv4/conf/../forwarding",
            "net/ipv4/conf/a-name-longer-than-15/forwarding",
            "net/ipv4/conf/a b/forwarding",
            "net/ipv4/conf/eth0/forwarding/",
            "/net/ipv4/conf/eth0/forwarding",
        ] {
            assert!(!is_written_by_up(key), "{key}");
        }
        assert!(!is_plain_value("") && !is_plain_value("-1") && !is_plain_value("1 "));
    }

    #[test]
    fn reads_and_writes_under_a_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("net/ipv4/conf/all")).unwrap();
        std::fs::write(dir.path().join("net/ipv4/conf/all/forwarding"), "0\n").unwrap();
        let s = Sysctls {
            root: dir.path().to_path_buf(),
        };
        assert_eq!(s.read("net/ipv4/conf/all/forwarding").as_deref(), Some("0"));
        s.write("net/ipv4/conf/all/forwarding", "1").unwrap();
        assert_eq!(s.read("net/ipv4/conf/all/forwarding").as_deref(), Some("1"));
    }
}
