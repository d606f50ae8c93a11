//! What one misbehaving container cannot do to the others through DNS:
//! hold every TCP connection, or fill the forwarder with queries for a zone
//! that never answers; and what an upstream cannot do to the cache (a TTL
//! of 2^32-1), nor the resolv file (name the daemon itself).

use std::net::{TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use netd_testkit::dhcp_wire;
use netd_testkit::lab::{Netns, in_netns};

use super::{dig, lab_with_upstream};

/// A query for `name` (type A, RD set) with `id`.
fn query(id: u16, name: &str) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

/// The daemon's open descriptors.
fn open_descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// The number after `label` in the last SIGUSR1 report of `log`.
fn reported(log: &str, label: &str) -> Option<u64> {
    log.lines()
        .rev()
        .find_map(|l| l.split(label).nth(1))
        .and_then(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .find(|s| !s.is_empty())
        })
        .and_then(|n| n.parse().ok())
}

#[test]
fn two_hundred_idle_tcp_connections_from_one_container_keep_no_one_else_out() {
    let (mut lab, _inet, a, _nsd) = lab_with_upstream();
    let d = lab.start_daemon(&["--interface=nat0", "--no-hosts"]);
    let before = open_descriptors(d.pid);
    let held: Vec<TcpStream> = in_netns(&a, || {
        (0..200)
            .filter_map(|_| {
                TcpStream::connect_timeout(
                    &"192.168.26.1:53".parse().unwrap(),
                    Duration::from_secs(2),
                )
                .ok()
            })
            .collect()
    });
    assert!(held.len() >= 190, "only {} connected", held.len());
    // Give the daemon time to accept them all (they are held, silent).
    std::thread::sleep(Duration::from_millis(500));
    let b = lab.container("b");
    b.add_host0_addr("192.168.26.51/24");
    let started = Instant::now();
    let out = dig(&b, "192.168.26.1", &["+tcp", "+short", "www.e2e.test"]);
    assert_eq!(out.trim(), "198.51.100.1", "{}", d.log_text());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The daemon holds no more of a's connections than its share (16).
    let after = open_descriptors(d.pid);
    assert!(
        after <= before + 20,
        "descriptors went from {before} to {after}"
    );
    drop(held);
}

#[test]
fn two_thousand_queries_for_a_silent_zone_leave_dhcp_and_other_clients_working() {
    let (mut lab, inet, a, _nsd) = lab_with_upstream();
    // A server that takes every query and never answers (a bound socket
    // that is never read: no ICMP error either).
    let _hole = in_netns(&inet, || UdpSocket::bind("203.0.113.2:5353").unwrap());
    let leases = lab.dir().join("leases");
    let lease_arg = format!("--dhcp-leasefile={}", leases.display());
    let d = lab.start_daemon(&[
        "--interface=nat0",
        "--no-hosts",
        "--dhcp-range=192.168.26.20-100",
        &lease_arg,
        "--server=/silent.test/203.0.113.2#5353",
    ]);
    let idle_fds = open_descriptors(d.pid);
    let flood = std::thread::spawn({
        let a = a.clone();
        move || {
            in_netns(&a, || {
                let s = UdpSocket::bind("192.168.26.50:0").unwrap();
                for i in 0..2000u16 {
                    let q = query(i, &format!("n{i}.silent.test"));
                    s.send_to(&q, "192.168.26.1:53").unwrap();
                    if i % 100 == 99 {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
                s
            })
        }
    });
    let mut peak_fds = idle_fds;
    let watch_until = Instant::now() + Duration::from_millis(1500);
    let b = lab.container("b");
    // While the flood is in flight: another container still resolves...
    b.add_host0_addr("192.168.26.51/24");
    peak_fds = peak_fds.max(open_descriptors(d.pid));
    let out = dig(&b, "192.168.26.1", &["+short", "www.e2e.test"]);
    assert_eq!(out.trim(), "198.51.100.1", "{}", d.log_text());
    peak_fds = peak_fds.max(open_descriptors(d.pid));
    // ...and a third gets a lease.
    let c = lab.container("c");
    let started = Instant::now();
    let leased = in_netns(&c, || {
        let sock = dhcp_wire::client_socket("host0");
        dhcp_wire::acquire(&sock, dhcp_wire::mac(7), 77)
    });
    let took = started.elapsed();
    assert!(leased.is_some(), "no lease:\n{}", d.log_text());
    assert!(took < Duration::from_secs(2), "the lease took {took:?}");
    while Instant::now() < watch_until {
        peak_fds = peak_fds.max(open_descriptors(d.pid));
        std::thread::sleep(Duration::from_millis(20));
    }
    let _flooder = flood.join().unwrap();
    // Bounded by the upstream pool and the forward limit, not by the
    // flood: 2,000 sockets before.
    assert!(
        peak_fds < idle_fds + 200,
        "descriptors went from {idle_fds} to {peak_fds}"
    );
    assert!(
        std::fs::read_to_string(&leases)
            .unwrap()
            .contains(&leased.unwrap().to_string())
    );
    d.signal(libc::SIGUSR1);
    assert!(d.wait_for_log("over a client's share", Duration::from_secs(5)));
    let log = d.log_text();
    let share = reported(&log, "over a client's share").unwrap();
    assert!(share > 1000, "a's share held: {share} dropped\n{log}");
}

/// An upstream on `203.0.113.2:5300` of the internet namespace that
/// answers every A query with 198.51.100.7 and a TTL of 2^32-1 (nsd will
/// not hand out such a TTL); it stops when the returned flag is set.
fn forever_upstream(inet: &Netns) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let socket = in_netns(inet, || UdpSocket::bind("203.0.113.2:5300").unwrap());
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while !flag.load(Ordering::Relaxed) {
            let Ok((n, from)) = socket.recv_from(&mut buf) else {
                continue;
            };
            // Header and question as asked (no EDNS: the OPT record is
            // the last part and is cut off), then one A record.
            let Some(qend) = (12..n).find(|&i| buf[i] == 0).map(|i| i + 5) else {
                continue;
            };
            let mut r = buf[..qend].to_vec();
            r[2] |= 0x80;
            r[3] = 0x80;
            r[6..12].copy_from_slice(&[0, 1, 0, 0, 0, 0]);
            r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
            r.extend_from_slice(&u32::MAX.to_be_bytes());
            r.extend_from_slice(&[0, 4, 198, 51, 100, 7]);
            let _ = socket.send_to(&r, from);
        }
    });
    (stop, thread)
}

fn ttl_of(out: &str) -> u64 {
    out.split_whitespace()
        .nth(1)
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no TTL in {out:?}"))
}

#[test]
fn an_upstream_ttl_of_2_32_minus_1_is_capped_and_our_own_address_is_refused() {
    let (mut lab, inet, c, _nsd) = lab_with_upstream();
    let (stop, thread) = forever_upstream(&inet);
    let direct = dig(
        &inet,
        "203.0.113.2",
        &["-p", "5300", "+noall", "+answer", "forever.test"],
    );
    assert_eq!(ttl_of(&direct), u64::from(u32::MAX), "{direct}");
    // The resolv file names the daemon itself first: a loop, refused.
    lab.host()
        .set_resolv_conf("nameserver 192.168.26.1\nnameserver 203.0.113.2\n");
    let route = "--server=/forever.test/203.0.113.2#5300";
    let d = lab.start_daemon(&["--interface=nat0", "--no-hosts", route]);
    assert!(
        d.log_text().contains("this daemon's own address"),
        "{}",
        d.log_text()
    );
    let ask = |ns: &Netns, name: &str| dig(ns, "192.168.26.1", &["+noall", "+answer", name]);
    assert_eq!(ttl_of(&ask(&c, "forever.test")), 86_400, "{}", d.log_text());
    std::thread::sleep(Duration::from_millis(1100));
    let cached = ttl_of(&ask(&c, "forever.test"));
    assert!(
        (86_390..86_400).contains(&cached),
        "from the cache: {cached}"
    );
    // The resolv file's other server still answers.
    let out = dig(&c, "192.168.26.1", &["+short", "www.e2e.test"]);
    assert_eq!(out.trim(), "198.51.100.1", "{}", d.log_text());
    drop(d);
    let d = lab.start_daemon(&[
        "--interface=nat0",
        "--no-hosts",
        route,
        "--max-cache-ttl=600",
    ]);
    assert_eq!(ttl_of(&ask(&c, "forever.test")), 600, "{}", d.log_text());
    stop.store(true, Ordering::Relaxed);
    thread.join().unwrap();
}
