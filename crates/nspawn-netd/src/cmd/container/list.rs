//! `container list`: a table for people, `--json` for scripts.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::Context;
use clap::Args;
use netd_container::machines;
use netd_proto::MacAddr;
use netd_proto::dhcp4::lease_file::{self, LeaseRecord};
use serde::Serialize;

use super::Dirs;

#[derive(Debug, Args)]
pub struct ListArgs {
    /// One JSON array of objects instead of a table.
    #[arg(long)]
    pub json: bool,
    /// nspawn-netd's lease file, for the addresses.
    #[arg(long, value_name = "PATH", default_value = crate::cli::DEFAULT_LEASE_FILE)]
    pub lease_file: PathBuf,
}

/// One row of the listing.
#[derive(Debug, Serialize)]
struct Row {
    name: String,
    state: &'static str,
    os: Option<String>,
    bridge: Option<String>,
    root: PathBuf,
    ipv4: Option<Ipv4Addr>,
    /// Global IPv6 addresses the bridge's neighbour table holds for the
    /// lease's MAC address (IPv6 is stateless: there is no IPv6 lease).
    ipv6: Vec<Ipv6Addr>,
    mac: Option<String>,
    /// Unix time the IPv4 lease ends; 0 = never.
    lease_expires: Option<u64>,
}

pub(super) fn run(dirs: &Dirs, args: ListArgs) -> anyhow::Result<()> {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let records = match std::fs::read_to_string(&args.lease_file) {
        Ok(text) => {
            let (records, bad) = lease_file::parse(&text);
            for e in bad {
                eprintln!("nspawn-netd: {}: {e}", args.lease_file.display());
            }
            records
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return Err(e).with_context(|| format!("reading {}", args.lease_file.display()));
        }
    };
    let machines = machines::list(&dirs.machines_dir, &dirs.nspawn_dir)
        .with_context(|| format!("reading {}", dirs.machines_dir.display()))?;
    let mut neighbours = Neighbours::default();
    let rows: Vec<Row> = machines
        .into_iter()
        .map(|m| {
            let lease: Option<&LeaseRecord> = lease_for(&records, &m.name, now);
            let ipv6 = match (lease, &m.bridge) {
                (Some(l), Some(bridge)) => neighbours.ipv6_of(bridge, MacAddr(l.mac)),
                _ => Vec::new(),
            };
            Row {
                state: if machines::is_running(&m.root) {
                    "running"
                } else {
                    "stopped"
                },
                ipv4: lease.map(|l| l.addr),
                mac: lease.map(|l| MacAddr(l.mac).to_string()),
                lease_expires: lease.map(|l| l.expires),
                ipv6,
                name: m.name,
                os: m.os,
                bridge: m.bridge,
                root: m.root,
            }
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    print_table(&rows, now);
    Ok(())
}

fn print_table(rows: &[Row], now: u64) {
    let dash = || "-".to_owned();
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.state.to_owned(),
                r.os.clone().unwrap_or_else(dash),
                r.bridge.clone().unwrap_or_else(dash),
                r.ipv4.map(|a| a.to_string()).unwrap_or_else(dash),
                if r.ipv6.is_empty() {
                    dash()
                } else {
                    r.ipv6
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                },
                r.lease_expires
                    .map(|e| remaining(e, now))
                    .unwrap_or_else(dash),
            ]
        })
        .collect();
    let header = ["NAME", "STATE", "OS", "BRIDGE", "IPV4", "IPV6", "LEASE"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.len());
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&table) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    if rows.is_empty() {
        println!("(no machines)");
    }
}

/// "11h58m left", "never ends".
fn remaining(expires: u64, now: u64) -> String {
    if expires == 0 {
        return "never ends".to_owned();
    }
    let left = expires.saturating_sub(now);
    format!("{}h{:02}m left", left / 3600, left % 3600 / 60)
}

/// The neighbours of each bridge, read once per listing.
#[derive(Debug, Default)]
struct Neighbours {
    by_bridge: HashMap<String, Vec<(MacAddr, IpAddr)>>,
}

impl Neighbours {
    /// Global IPv6 addresses of `mac` in `bridge`'s neighbour table (empty
    /// when the bridge is not here or the table cannot be read).
    fn ipv6_of(&mut self, bridge: &str, mac: MacAddr) -> Vec<Ipv6Addr> {
        let table = self
            .by_bridge
            .entry(bridge.to_owned())
            .or_insert_with(|| read_neighbours(bridge));
        ipv6_of_mac(table, mac)
    }
}

/// `bridge`'s neighbour table over netlink; empty when it cannot be read
/// (no such bridge here, no netlink).
fn read_neighbours(bridge: &str) -> Vec<(MacAddr, IpAddr)> {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("nspawn-netd: reading {bridge}'s neighbours: {e}");
            return Vec::new();
        }
    };
    match runtime.block_on(netd_serve::neighbours::netlink::dump(bridge)) {
        Ok(table) => table,
        // A bridge that is not here has no neighbours to show.
        Err(netd_serve::neighbours::netlink::DumpError::Interface(_)) => Vec::new(),
        Err(e) => {
            eprintln!("nspawn-netd: reading {bridge}'s neighbours: {e}");
            Vec::new()
        }
    }
}

/// The global (not link-local, not multicast) IPv6 addresses that
/// `neighbours` holds for `mac`, sorted.
fn ipv6_of_mac(neighbours: &[(MacAddr, IpAddr)], mac: MacAddr) -> Vec<Ipv6Addr> {
    let mut addrs: Vec<Ipv6Addr> = neighbours
        .iter()
        .filter(|(m, _)| *m == mac)
        .filter_map(|(_, a)| match a {
            IpAddr::V6(a) => Some(*a),
            IpAddr::V4(_) => None,
        })
        .filter(|a| (a.segments()[0] & 0xffc0) != 0xfe80 && !a.is_multicast())
        .collect();
    addrs.sort();
    addrs.dedup();
    addrs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbour_addresses_of_a_mac() {
        let a: MacAddr = "52:54:00:aa:bb:01".parse().unwrap();
        let b: MacAddr = "52:54:00:aa:bb:02".parse().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let table = [
            (a, ip("fd23::5054:ff:feaa:bb02")),
            (a, ip("fe80::5054:ff:feaa:bb01")),
            (a, ip("192.168.26.20")),
            (b, ip("fd23::99")),
            (a, ip("fd23::5054:ff:feaa:bb01")),
            (a, ip("fd23::5054:ff:feaa:bb01")),
        ];
        assert_eq!(
            ipv6_of_mac(&table, a),
            [
                "fd23::5054:ff:feaa:bb01".parse::<Ipv6Addr>().unwrap(),
                "fd23::5054:ff:feaa:bb02".parse().unwrap()
            ]
        );
        assert!(ipv6_of_mac(&table, MacAddr([0; 6])).is_empty());
    }

    #[test]
    fn a_missing_bridge_has_no_neighbours() {
        let mut n = Neighbours::default();
        assert!(n.ipv6_of("no-such-br0", MacAddr([2; 6])).is_empty());
    }

    #[test]
    fn lease_time_left() {
        assert_eq!(remaining(0, 5), "never ends");
        assert_eq!(remaining(1000 + 3 * 3600 + 5 * 60 + 7, 1000), "3h05m left");
        assert_eq!(remaining(10, 20), "0h00m left");
    }
}

/// The lease of the machine whose hostname is `name` (case-insensitive)
/// that is still valid at `now` (Unix seconds), the one ending last when
/// there are several.
fn lease_for<'a>(records: &'a [LeaseRecord], name: &str, now: u64) -> Option<&'a LeaseRecord> {
    records
        .iter()
        .filter(|r| {
            r.hostname
                .as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case(name))
        })
        .filter(|r| r.expires == 0 || r.expires > now)
        .max_by_key(|r| if r.expires == 0 { u64::MAX } else { r.expires })
}

#[cfg(test)]
mod lease_tests {
    use super::*;

    const FILE: &str = "\
1700000100 52:54:00:aa:bb:01 192.168.26.20 web 01:52:54:00:aa:bb:01
1700000050 52:54:00:aa:bb:02 192.168.26.21 Web *
1600000000 52:54:00:aa:bb:03 192.168.26.22 db *
0 52:54:00:aa:bb:04 192.168.26.23 db *
1700000100 52:54:00:aa:bb:05 192.168.26.24 * *
";

    #[test]
    fn the_current_lease_of_a_name() {
        let (records, bad) = lease_file::parse(FILE);
        assert!(bad.is_empty(), "{bad:?}");
        let now = 1_700_000_000;
        assert_eq!(
            lease_for(&records, "WEB", now).unwrap().addr,
            Ipv4Addr::new(192, 168, 26, 20)
        );
        // The expired one is ignored, the infinite one wins.
        assert_eq!(
            lease_for(&records, "db", now).unwrap().addr,
            Ipv4Addr::new(192, 168, 26, 23)
        );
        assert_eq!(lease_for(&records, "web", 1_800_000_000), None);
        assert_eq!(lease_for(&records, "mail", now), None);
    }
}
