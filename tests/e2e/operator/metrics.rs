//! The metrics endpoint as curl sees it: counters rising as a client gets
//! a lease and asks DNS, latency histograms filling, the same numbers as
//! `status` and SIGUSR1's lines; GET only; off unless asked.

use std::time::Duration;

use netd_testkit::clients::{Client, Run};
use netd_testkit::lab::{Lab, Netns};

use super::{daemon_args, dig, status_json, text, upstream};

const ENDPOINT: &str = "http://127.0.0.1:9153/metrics";

/// `curl` of the endpoint from the lab's host namespace (its loopback).
fn scrape(host: &Netns) -> String {
    let out = host.run(&["curl", "-sS", "--max-time", "3", ENDPOINT]);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of the sample line starting with `name ` (labels included in
/// `name`).
fn sample(page: &str, name: &str) -> f64 {
    page.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in:\n{page}"))
        .parse()
        .unwrap()
}

#[test]
fn curl_shows_counters_rising_as_a_client_gets_a_lease_and_queries_dns() {
    let mut lab = Lab::new();
    let _nsd = upstream(&mut lab);
    let mut args = daemon_args(lab.dir());
    args.push("--metrics-listen=127.0.0.1:9153".into());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let daemon = lab.start_daemon(&argv);
    let before = scrape(lab.host());
    assert_eq!(sample(&before, "nspawn_netd_dhcp4_ack_total"), 0.0);
    assert_eq!(sample(&before, "nspawn_netd_dns_queries_total"), 0.0);
    assert_eq!(sample(&before, "nspawn_netd_dhcp4_free"), 81.0);
    assert!(before.contains("# TYPE nspawn_netd_dhcp4_reply_latency_seconds histogram"));

    let c = lab.container("m1");
    Client::Udhcpc
        .obtain(&c, lab.dir(), &Run::default())
        .unwrap_or_else(|e| panic!("{e}\n{}", daemon.log_text()));
    assert_eq!(dig(&c, "www.e2e.test"), "198.51.100.1");
    assert_eq!(dig(&c, "www.e2e.test"), "198.51.100.1");

    let after = scrape(lab.host());
    assert_eq!(sample(&after, "nspawn_netd_dhcp4_ack_total"), 1.0);
    assert!(sample(&after, "nspawn_netd_dhcp4_discover_total") >= 1.0);
    assert_eq!(sample(&after, "nspawn_netd_dhcp4_free"), 80.0);
    assert!(sample(&after, "nspawn_netd_dhcp4_reply_latency_seconds_count") >= 2.0);
    assert_eq!(sample(&after, "nspawn_netd_dns_queries_total"), 2.0);
    assert_eq!(sample(&after, "nspawn_netd_dns_cache_hits_total"), 1.0);
    assert_eq!(sample(&after, "nspawn_netd_dns_forwarded_total"), 1.0);
    assert_eq!(
        sample(
            &after,
            "nspawn_netd_dns_upstream_answers_total{upstream=\"203.0.113.2#53\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(&after, "nspawn_netd_dns_upstream_latency_seconds_count"),
        1.0
    );

    // One source: status and SIGUSR1 say the same.
    let s = status_json(&lab);
    assert_eq!(s["dhcp4"]["free"], 80);
    assert_eq!(s["dns"]["counters"]["queries"], 2);
    assert_eq!(s["dhcp4"]["counters"]["ack"], 1);
    daemon.signal(libc::SIGUSR1);
    assert!(
        daemon.wait_for_log(
            "DHCP leases in use 1 of pool 81, 80 free",
            Duration::from_secs(5)
        ),
        "{}",
        daemon.log_text()
    );
    assert!(
        daemon
            .log_text()
            .contains("server 203.0.113.2#53: answers 1")
    );

    // GET only.
    let out = lab.host().run(&[
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "POST",
        ENDPOINT,
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "405");
    let out = lab.host().run(&[
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "http://127.0.0.1:9153/",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "404");
}

#[test]
fn without_the_option_no_endpoint_listens_and_a_wildcard_is_refused() {
    let mut lab = Lab::new();
    let args = daemon_args(lab.dir());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let _daemon = lab.start_daemon(&argv);
    // Only DNS listens on TCP.
    let listening = lab.host().run_ok(&["ss", "-Hltn"]);
    for line in listening.lines() {
        assert!(line.contains(":53 "), "something else listens: {line}");
    }
    let out = lab.host().run(&[
        netd_testkit::lab::netd_bin().to_str().unwrap(),
        "--keep-in-foreground",
        "--interface=nat0",
        "--port=5354",
        "--metrics-listen=0.0.0.0:9153",
        &format!("--control-dir={}", lab.dir().join("other").display()),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--metrics-listen=0.0.0.0:9153"),
        "{}",
        text(&out)
    );
}
