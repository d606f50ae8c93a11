//! DNS load bench: dnsperf from a container namespace against nspawn-netd
//! and against dnsmasq, one after the other, with the same nsd upstream and
//! the same query files; the server pinned to CPU 0, dnsperf to CPU 1.
//!
//! Two runs per server: cache hits (100 names asked over and over after a
//! warm-up pass) and forwarded misses (distinct names, each asked once).
//! For each it prints queries per second, lost queries, and the server's
//! CPU time per query (utime + stime from /proc/PID/stat, before and after),
//! then the nspawn-netd / dnsmasq ratios, and each server's memory:
//! VmRSS once it answers, before any load (idle), and VmHWM (the peak
//! resident set) after the hit run and after the miss run.
//!
//! The server's CPU time includes the kernel's work for each reply: the
//! send, and (as a softirq run in the sender's context, since veth hands
//! packets over on the sending CPU) the bridge, the container's IP and UDP
//! receive path, and waking dnsperf. Profiling nspawn-netd on cache hits put
//! about 78% of its time in sendmmsg (35% of it that receive-side softirq)
//! and 7% in user space; both servers pay that kernel share alike.
//!
//! Needs root (it builds its own network namespaces) and dnsperf, dnsmasq,
//! nsd and taskset. `cargo bench --bench dns_load`; `DNS_LOAD_SECONDS`
//! sets the length of the hit run (default 10), `DNS_LOAD_MISSES` the number
//! of miss queries (default 50000).

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use netd_testkit::lab::{Lab, Netns, wait_until};
use netd_testkit::nsd::Nsd;

const SERVER: &str = "192.168.26.1";
const HIT_NAMES: usize = 100;

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing
    // useful either way: this bench only runs when asked for.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let seconds: u32 = env_or("DNS_LOAD_SECONDS", 10);
    let misses: usize = env_or("DNS_LOAD_MISSES", 50_000);
    let mut lab = Lab::new();
    let inet = lab.internet();
    let dir = lab.dir().to_path_buf();
    let _nsd = start_nsd(&inet, &dir);
    lab.host().set_resolv_conf("nameserver 203.0.113.2\n");
    let client = lab.container("perf");
    client.run_ok(&["ip", "addr", "add", "192.168.26.50/24", "dev", "host0"]);

    let hits_file = dir.join("hits.txt");
    let hits: String = (0..HIT_NAMES)
        .map(|i| format!("h{i}.bench.test A\n"))
        .collect();
    std::fs::write(&hits_file, hits).unwrap();
    let nspawn_netd = env!("CARGO_BIN_EXE_nspawn-netd");
    let resolv = String::from("--resolv-file=/etc/resolv.conf");
    // dnsperf keeps 100 queries outstanding from one address: more than
    // nspawn-netd lets one client hold at the default of 150 (a quarter,
    // or up to half while no one else asks), so both servers get room for
    // them. Neither reaches it otherwise.
    let forward_max = String::from("--dns-forward-max=300");
    let control = format!("--control-dir={}", dir.display());
    let servers: [(&str, Vec<String>); 2] = [
        (
            "nspawn-netd",
            [
                nspawn_netd,
                "--keep-in-foreground",
                "--interface=nat0",
                "--no-hosts",
                "--cache-size=10000",
                &forward_max,
                &resolv,
                &control,
            ]
            .map(String::from)
            .to_vec(),
        ),
        (
            "dnsmasq",
            [
                "dnsmasq",
                "--keep-in-foreground",
                "--user=root",
                "--interface=nat0",
                "--except-interface=lo",
                "--bind-interfaces",
                "--listen-address=192.168.26.1",
                "--no-hosts",
                "--cache-size=10000",
                "--domain-needed",
                "--bogus-priv",
                &forward_max,
                &resolv,
                "--pid-file=",
                "--log-facility=-",
            ]
            .map(String::from)
            .to_vec(),
        ),
    ];
    let mut results = Vec::new();
    let mut memory = Vec::new();
    for (round, (name, argv)) in servers.iter().enumerate() {
        let misses_file = dir.join(format!("misses-{round}.txt"));
        let text: String = (0..misses)
            .map(|i| format!("m{round}x{i}.miss.bench.test A\n"))
            .collect();
        std::fs::write(&misses_file, text).unwrap();
        let mut server = start_server(lab.host(), argv, &dir.join(format!("{name}.log")));
        let pid = server.id();
        let idle = memory_kib(pid, "VmRSS");
        // Warm the cache: every hit name once.
        dnsperf(&client, &hits_file, &["-n", "1"]);
        let before = cpu_ticks(pid);
        let hit = dnsperf(&client, &hits_file, &["-l", &seconds.to_string()]);
        let hit_cpu = cpu_ticks(pid) - before;
        let after_hits = memory_kib(pid, "VmHWM");
        let before = cpu_ticks(pid);
        let miss = dnsperf(&client, &misses_file, &["-n", "1"]);
        let miss_cpu = cpu_ticks(pid) - before;
        let after_misses = memory_kib(pid, "VmHWM");
        let _ = server.kill();
        let _ = server.wait();
        results.push((*name, Run::new(hit, hit_cpu), Run::new(miss, miss_cpu)));
        memory.push((*name, idle, after_hits, after_misses));
    }
    println!();
    println!(
        "{:<12} {:<5} {:>10} {:>9} {:>6} {:>13} {:>9} {:>9}",
        "server", "run", "qps", "completed", "lost", "cpu µs/query", "user µs", "sys µs"
    );
    for (name, hit, miss) in &results {
        for (run, r) in [("hit", hit), ("miss", miss)] {
            println!(
                "{name:<12} {run:<5} {:>10.0} {:>9} {:>6} {:>13.2} {:>9.2} {:>9.2}",
                r.perf.qps,
                r.perf.completed,
                r.perf.lost,
                r.cpu_us_per_query(),
                r.us_per_query(r.cpu.user),
                r.us_per_query(r.cpu.system)
            );
        }
    }
    let (_, nh, nm) = &results[0];
    let (_, dh, dm) = &results[1];
    println!();
    println!(
        "hits:   cpu/query nspawn-netd/dnsmasq = {:.2} (target <= 0.50); qps ratio = {:.2} (target >= 1.00)",
        nh.cpu_us_per_query() / dh.cpu_us_per_query(),
        nh.perf.qps / dh.perf.qps
    );
    println!(
        "misses: cpu/query nspawn-netd/dnsmasq = {:.2} (target <= 1.00); qps ratio = {:.2}",
        nm.cpu_us_per_query() / dm.cpu_us_per_query(),
        nm.perf.qps / dm.perf.qps
    );
    println!(
        "hits, user-space CPU only: nspawn-netd/dnsmasq = {:.2}",
        nh.us_per_query(nh.cpu.user) / dh.us_per_query(dh.cpu.user)
    );
    println!(
        "lost:   nspawn-netd {} + {}, dnsmasq {} + {} (target 0)",
        nh.perf.lost, nm.perf.lost, dh.perf.lost, dm.perf.lost
    );
    println!();
    println!(
        "{:<12} {:>15} {:>20} {:>22}",
        "server", "VmRSS idle MiB", "VmHWM after hits MiB", "VmHWM after misses MiB"
    );
    let mib = |kib: u64| kib as f64 / 1024.0;
    for (name, idle, hits, misses) in &memory {
        println!(
            "{name:<12} {:>15.1} {:>20.1} {:>22.1}",
            mib(*idle),
            mib(*hits),
            mib(*misses)
        );
    }
}

/// A `/proc/PID/status` memory line (`VmRSS`, `VmHWM`), in KiB.
fn memory_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
}

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Run {
    perf: Perf,
    cpu: Ticks,
}

impl Run {
    fn new(perf: Perf, cpu: Ticks) -> Run {
        Run { perf, cpu }
    }

    fn us_per_query(&self, ticks: u64) -> f64 {
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        ticks as f64 / hz * 1e6 / self.perf.completed.max(1) as f64
    }

    fn cpu_us_per_query(&self) -> f64 {
        self.us_per_query(self.cpu.user + self.cpu.system)
    }
}

#[derive(Debug, Default)]
struct Perf {
    completed: u64,
    lost: u64,
    qps: f64,
}

/// Runs dnsperf pinned to CPU 1 and reads its summary.
fn dnsperf(client: &Netns, file: &Path, extra: &[&str]) -> Perf {
    let mut argv = vec![
        "taskset",
        "-c",
        "1",
        "dnsperf",
        "-s",
        SERVER,
        "-d",
        file.to_str().unwrap(),
        "-c",
        "1",
        "-T",
        "1",
        "-q",
        "100",
        "-t",
        "2",
    ];
    argv.extend_from_slice(extra);
    let out = client.run_ok(&argv);
    let field = |label: &str| -> Option<&str> {
        out.lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split(':').nth(1))
            .and_then(|v| v.split_whitespace().next())
    };
    Perf {
        completed: field("Queries completed")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        lost: field("Queries lost")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        qps: field("Queries per second")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
    }
}

/// utime and stime of the whole process (all threads), in clock ticks.
fn cpu_ticks(pid: u32) -> Ticks {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields overall, the 12th and 13th after ")".
    let rest = stat.rsplit_once(')').unwrap().1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Ticks {
        user: f[11].parse().unwrap(),
        system: f[12].parse().unwrap(),
    }
}

#[derive(Debug, Clone, Copy)]
struct Ticks {
    user: u64,
    system: u64,
}

impl std::ops::Sub for Ticks {
    type Output = Ticks;
    fn sub(self, o: Ticks) -> Ticks {
        Ticks {
            user: self.user - o.user,
            system: self.system - o.system,
        }
    }
}

/// Starts a DNS server pinned to CPU 0 in the host namespace and waits until
/// it answers.
fn start_server(host: &Netns, argv: &[String], log: &Path) -> Child {
    let mut cmd = host.cmd("taskset");
    cmd.args(["-c", "0"]).args(argv);
    let log = std::fs::File::create(log).expect("creating the server log");
    cmd.env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    let child = cmd.spawn().expect("starting the DNS server");
    let up = wait_until(Duration::from_secs(10), || {
        let out = host.run(&[
            "dig",
            "+short",
            "+tries=1",
            "+timeout=1",
            &format!("@{SERVER}"),
            "h0.bench.test",
        ]);
        String::from_utf8_lossy(&out.stdout).contains("198.51.100.")
    });
    assert!(up, "{argv:?} did not answer");
    child
}

/// nsd serving `bench.test` on 203.0.113.2: `h0..hN` for hits, `*.miss`
/// for misses. It shares CPU 1 with dnsperf, away from the server under test.
fn start_nsd(inet: &Netns, dir: &Path) -> Nsd {
    let mut zone = String::from(
        "$ORIGIN bench.test.\n$TTL 3600\n@ IN SOA ns admin 1 3600 600 86400 300\n@ IN NS ns\nns IN A 203.0.113.2\n*.miss IN A 198.51.100.9\n",
    );
    for i in 0..HIT_NAMES {
        zone.push_str(&format!("h{i} IN A 198.51.100.{}\n", i % 250 + 1));
    }
    Nsd::start(
        inet,
        dir,
        "203.0.113.2",
        "bench.test",
        &zone,
        "h0.bench.test",
        Some(1),
    )
}
