//! DHCPv4 load bench: Kea's perfdhcp, as a relay agent in a client
//! namespace, against nspawn-netd and then dnsmasq in the same lab, with
//! the same pool (a /14, so that no run exhausts it), first with an empty
//! lease table and then with a prefilled one. The server runs pinned to
//! CPU 0, perfdhcp to CPU 1.
//!
//! For each offered rate (new clients, random MACs) it prints completed
//! DORA exchanges per second, the loss (offered exchanges without an ACK),
//! and the server's CPU time per completed exchange (utime + stime from
//! /proc/PID/stat, the daemon's and its helper's, before and after). Then
//! the same for known clients (1,000 MACs that already hold leases, at 500
//! exchanges/s), the time from start to ready, VmRSS idle and after, and
//! the nspawn-netd / dnsmasq ratios. The rate `0` asks perfdhcp for all it
//! can send: its ceiling. Every ACK nspawn-netd sends is durable (journal
//! appended and fdatasync'ed first); dnsmasq does not sync its lease file.
//!
//! Needs root, perfdhcp (Debian's kea-admin), dnsmasq and taskset.
//! `cargo bench --bench dhcp_load`. Environment: `DHCP_LOAD_SECONDS`
//! (each run, default 5), `DHCP_LOAD_RATES` (default 1000,2000,4000,6000,0),
//! `DHCP_LOAD_PREFILL` (default 50000), `DHCP_LOAD_SERVERS` (default
//! nspawn-netd,dnsmasq).

// The modules share items with `pub`; the bench is no library.
#![allow(unreachable_pub)]

mod perfdhcp;
mod procfs;
mod servers;

use std::net::Ipv4Addr;
use std::time::Duration;

use netd_testkit::lab::Lab;

use servers::{Kind, Server};

const SERVER: &str = "10.40.0.1";
const BRIDGE: &str = "10.40.0.1/14";
const RELAY: &str = "10.40.0.2";
const POOL: (Ipv4Addr, Ipv4Addr) = (
    Ipv4Addr::new(10, 40, 0, 20),
    Ipv4Addr::new(10, 43, 255, 250),
);
/// perfdhcp draws MACs at random from this many per run.
const NEW_CLIENTS: u32 = 16_000_000;
const KNOWN_CLIENTS: u32 = 1000;
const KNOWN_RATE: u32 = 500;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let seconds: u32 = env_or("DHCP_LOAD_SECONDS", 5);
    let prefill: usize = env_or("DHCP_LOAD_PREFILL", 50_000);
    let rates: Vec<u32> = std::env::var("DHCP_LOAD_RATES")
        .unwrap_or_else(|_| "1000,2000,4000,6000,0".into())
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .collect();
    let kinds: Vec<Kind> = std::env::var("DHCP_LOAD_SERVERS")
        .unwrap_or_else(|_| "nspawn-netd,dnsmasq".into())
        .split(',')
        .filter_map(Kind::parse)
        .collect();
    let mut lab = Lab::with_bridge("nat0", BRIDGE);
    let client = lab.container("perf");
    client.run_ok(&["ip", "addr", "add", &format!("{RELAY}/14"), "dev", "host0"]);
    println!("load average at start: {}", procfs::load_average());

    let mut rows = Vec::new();
    let mut run_no = 0u32;
    for (n, table) in [0, prefill].into_iter().enumerate() {
        for &kind in &kinds {
            let dir = lab.dir().join(format!("{}-{n}-{table}", kind.name()));
            std::fs::create_dir_all(&dir).unwrap();
            let leases = dir.join("leases");
            servers::prefill(&leases, table, POOL);
            let server = Server::start(kind, &lab, &client, &dir, &leases, POOL);
            let idle_rss = procfs::status_kib(server.pid, "VmRSS:");
            println!(
                "{} with {table} leases: ready in {:.1} ms, VmRSS idle {idle_rss} KiB (load {})",
                kind.name(),
                server.startup.as_secs_f64() * 1e3,
                procfs::load_average()
            );
            for &rate in &rates {
                run_no += 1;
                let base = format!("02:{:02x}:00:00:00:00", run_no % 256);
                let row = measure(&server, &client, rate, seconds, NEW_CLIENTS, &base);
                row.print(kind, table, if rate == 0 { "max" } else { "new" }, rate);
                rows.push((kind, table, rate, row));
            }
            // Known clients: 1,000 MACs get leases, then DORA again.
            let base = "06:00:00:00:00:00";
            measure(&server, &client, KNOWN_RATE, 3, KNOWN_CLIENTS, base);
            let known = measure(&server, &client, KNOWN_RATE, seconds, KNOWN_CLIENTS, base);
            known.print(kind, table, "known", KNOWN_RATE);
            rows.push((kind, table, u32::MAX, known));
            let rss = procfs::status_kib(server.pid, "VmRSS:");
            let hwm = procfs::status_kib(server.pid, "VmHWM:");
            println!(
                "{} with {table} leases: VmRSS after {rss} KiB, VmHWM {hwm} KiB",
                kind.name()
            );
            server.stop();
        }
    }
    print_ratios(&rows);
    println!("load average at end: {}", procfs::load_average());
}

/// One perfdhcp run and the server's CPU time over it.
fn measure(
    server: &Server,
    client: &netd_testkit::lab::Netns,
    rate: u32,
    seconds: u32,
    clients: u32,
    base: &str,
) -> Row {
    let before = procfs::cpu_ticks(server.pid);
    let report = perfdhcp::run(client, RELAY, SERVER, rate, seconds, clients, base);
    let t = procfs::cpu_ticks(server.pid) - before;
    Row {
        report,
        seconds,
        cpu: procfs::ticks_to_duration(t.user + t.system),
        user: procfs::ticks_to_duration(t.user),
        load: procfs::load_average(),
    }
}

struct Row {
    report: perfdhcp::Report,
    seconds: u32,
    cpu: Duration,
    /// Of which in user space.
    user: Duration,
    load: String,
}

impl Row {
    fn completed_per_sec(&self) -> f64 {
        self.report.acks as f64 / f64::from(self.seconds)
    }

    fn cpu_us_per_exchange(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.report.acks.max(1) as f64
    }

    fn print(&self, kind: Kind, table: usize, what: &str, rate: u32) {
        let offered = self.report.discovers as f64 / f64::from(self.seconds);
        println!(
            "{:<12} leases {table:>6} {what:<5} rate {:>5} offered {offered:>7.0}/s completed {:>7.0}/s loss {:>6.2} % cpu {:>7.1} µs/exchange (user {:.1}) (load {})",
            kind.name(),
            if rate == 0 {
                "max".to_owned()
            } else {
                rate.to_string()
            },
            self.completed_per_sec(),
            self.report.loss() * 100.0,
            self.cpu_us_per_exchange(),
            self.user.as_secs_f64() * 1e6 / self.report.acks.max(1) as f64,
            self.load
        );
    }
}

fn print_ratios(rows: &[(Kind, usize, u32, Row)]) {
    println!();
    println!("nspawn-netd / dnsmasq, same table and rate:");
    for (kind, table, rate, row) in rows {
        if *kind != Kind::NspawnNetd {
            continue;
        }
        let Some((_, _, _, other)) = rows
            .iter()
            .find(|(k, t, r, _)| *k == Kind::Dnsmasq && t == table && r == rate)
        else {
            continue;
        };
        let label = match *rate {
            u32::MAX => "known clients".to_owned(),
            0 => "max rate".to_owned(),
            r => format!("{r}/s new"),
        };
        println!(
            "  leases {table:>6} {label:<14} cpu/exchange {:>6.2}  completed/s {:>6.2}",
            row.cpu_us_per_exchange() / other.cpu_us_per_exchange(),
            row.completed_per_sec() / other.completed_per_sec().max(f64::MIN_POSITIVE)
        );
    }
}

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
