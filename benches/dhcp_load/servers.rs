//! Starting, timing and stopping the two servers under test, pinned to
//! CPU 0 in the lab's host namespace, and the prefilled lease file they
//! both start from.

use std::io::{BufRead, BufReader, Write};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use netd_testkit::lab::{Lab, Netns, netd_bin};

use crate::{RELAY, SERVER, perfdhcp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    NspawnNetd,
    Dnsmasq,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s.trim() {
            "nspawn-netd" => Some(Kind::NspawnNetd),
            "dnsmasq" => Some(Kind::Dnsmasq),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::NspawnNetd => "nspawn-netd",
            Kind::Dnsmasq => "dnsmasq",
        }
    }
}

/// Writes `count` leases in dnsmasq's format, 12 hours from now, at the
/// start of `pool`, with MACs no perfdhcp run uses.
pub fn prefill(path: &Path, count: usize, pool: (Ipv4Addr, Ipv4Addr)) {
    let expires = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 12 * 3600;
    let mut text = String::with_capacity(count * 48);
    for i in 0..count as u32 {
        let addr = Ipv4Addr::from(u32::from(pool.0) + i);
        let [_, a, b, c] = i.to_be_bytes();
        text.push_str(&format!(
            "{expires} 04:00:00:{a:02x}:{b:02x}:{c:02x} {addr} * *\n"
        ));
    }
    std::fs::write(path, text).unwrap();
}

pub struct Server {
    pub pid: u32,
    /// From spawn to serving.
    pub startup: Duration,
    child: Child,
    kind: Kind,
}

impl Server {
    pub fn start(
        kind: Kind,
        lab: &Lab,
        client: &Netns,
        dir: &Path,
        leases: &Path,
        pool: (Ipv4Addr, Ipv4Addr),
    ) -> Server {
        let range = format!("--dhcp-range={},{},12h", pool.0, pool.1);
        let leasefile = format!("--dhcp-leasefile={}", leases.display());
        let log_path = dir.join("server.log");
        let mut cmd = lab.host().cmd("taskset");
        cmd.args(["-c", "0"]);
        match kind {
            Kind::NspawnNetd => {
                let bin = netd_bin();
                cmd.arg(bin).args([
                    "--keep-in-foreground",
                    "--interface=nat0",
                    "--port=0",
                    "--dhcp-lease-max=1000000",
                    &range,
                    &leasefile,
                ]);
                cmd.env("RUST_LOG", "warn,nspawn_netd=info");
            }
            Kind::Dnsmasq => {
                let log = format!("--log-facility={}", dir.join("dnsmasq.log").display());
                cmd.args([
                    "dnsmasq",
                    "--keep-in-foreground",
                    "--user=root",
                    "--interface=nat0",
                    "--except-interface=lo",
                    "--bind-interfaces",
                    "--port=0",
                    "--dhcp-authoritative",
                    "--dhcp-lease-max=1000000",
                    "--quiet-dhcp",
                    "--pid-file=",
                    &log,
                    &range,
                    &leasefile,
                ]);
            }
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let t0 = Instant::now();
        let mut child = cmd.spawn().expect("starting the server");
        let pid = child.id();
        let (ready_tx, ready_rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut log = std::fs::File::create(log_path).unwrap();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("nspawn-netd ready") {
                    let _ = ready_tx.send(Instant::now());
                }
                let _ = writeln!(log, "{line}");
            }
        });
        let startup = match kind {
            Kind::NspawnNetd => {
                let at = ready_rx
                    .recv_timeout(Duration::from_secs(60))
                    .expect("nspawn-netd did not become ready");
                at - t0
            }
            Kind::Dnsmasq => wait_answering(client, t0),
        };
        Server {
            pid,
            startup,
            child,
            kind,
        }
    }

    /// SIGTERM, and waits for the exit.
    pub fn stop(mut self) {
        // SAFETY: kill(2) on the server this bench started.
        unsafe { libc::kill(self.pid as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("{} did not stop on SIGTERM; killed", self.kind.name());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls with single exchanges until one completes; for servers that do
/// not say when they are ready. Resolution: about one exchange timeout.
fn wait_answering(client: &Netns, t0: Instant) -> Duration {
    let deadline = t0 + Duration::from_secs(600);
    while Instant::now() < deadline {
        let r = perfdhcp::probe(client, RELAY, SERVER);
        if r.acks > 0 {
            return t0.elapsed();
        }
    }
    panic!("the server did not answer within 600 s");
}
