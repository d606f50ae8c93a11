//! `--dhcp-option` and friends from the command line and files to the
//! plans of DHCPv4 and of RA + DHCPv6.

use std::ffi::OsString;
use std::net::Ipv6Addr;

use netd_proto::dhcp4::{OptionValue, Tag};
use netd_serve::iface::InterfaceInfo;
use netd_serve::service::Context;

use super::*;

fn load_args(args: &[&str]) -> Result<DaemonSettings, SettingsError> {
    let argv = std::iter::once("nspawn-netd")
        .chain(args.iter().copied())
        .map(OsString::from)
        .collect();
    let loaded = load(argv)?;
    loaded.daemon_settings(&loaded.cli.daemon)
}

fn nat0() -> InterfaceInfo {
    InterfaceInfo {
        name: "nat0".into(),
        index: 3,
        mac: Some(netd_proto::MacAddr([2, 0, 0, 0, 0, 1])),
        mtu: Some(1500),
        ipv4: vec!["192.168.26.1/24".parse().unwrap()],
        ipv6: vec!["fd23::1/64".parse().unwrap(), "fe80::1/64".parse().unwrap()],
    }
}

fn ctx() -> Context {
    Context::new(
        nat0(),
        vec!["192.168.26.1".parse().unwrap()],
        Some("lan".into()),
    )
}

#[test]
fn options_reach_the_dhcp4_plan() {
    let s = load_args(&[
        "--dhcp-range=set:lan,192.168.26.20,192.168.26.100",
        "-O",
        "option:mtu,1400",
        "--dhcp-option-force=tag:lan,3,192.168.26.254",
        "--dhcp-option=option6:dns-server,[::]",
        "--dhcp-rapid-commit",
        "--dhcp-ignore-clid",
    ])
    .unwrap();
    assert_eq!(s.dhcp4.options.len(), 2);
    assert_eq!(s.ipv6.dhcp6_options.len(), 1);
    let p = netd_serve::dhcp4::plan(&s.dhcp4, &ctx()).unwrap().unwrap();
    let c = &p.config;
    assert!(c.rapid_commit && c.ignore_client_id);
    assert_eq!(c.ranges[0].tags, vec![Tag("lan".into())]);
    assert_eq!(c.options[0].value, OptionValue::U16(1400));
    assert!(!c.options[0].force && c.options[1].force);
}

#[test]
fn a_bad_option_in_a_file_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("x.conf");
    std::fs::write(&conf, "interface=nat0\ndhcp-option=option:mtu,big\n").unwrap();
    let e = load_args(&[&format!("--conf-file={}", conf.display())])
        .unwrap_err()
        .to_string();
    let want = format!("{}:2: --dhcp-option=option:mtu,big", conf.display());
    assert!(e.contains(&want) && e.contains("\"big\""), "{e}");
    let e = load_args(&["--dhcp-option=encap:175,1,1"])
        .unwrap_err()
        .to_string();
    assert!(e.contains("--dhcp-option") && e.contains("encap:"), "{e}");
}

#[test]
fn option6_dns_server_and_search_replace_the_announced_ones() {
    let s = load_args(&[
        "--dhcp-range=fd23::/64,ra-stateless",
        "--dhcp-option-force=option6:dns-server,[::],[fd00::53]",
        "--dhcp-option=option6:domain-search,a.example,b.example",
    ])
    .unwrap();
    let p = netd_serve::ra::plan(&s.ipv6, &ctx()).unwrap().unwrap();
    let own: Ipv6Addr = "fd23::1".parse().unwrap();
    let want = vec![own, "fd00::53".parse().unwrap()];
    assert_eq!(p.ra.dns_servers, want);
    assert_eq!(p.ra.search_domains, ["a.example", "b.example"]);
    let d = p.dhcp6.unwrap();
    assert_eq!(d.dns_servers, want);
    assert_eq!(d.search_domains, ["a.example", "b.example"]);
    // An option6 the server does not send is an error naming it.
    let s = load_args(&[
        "--dhcp-range=fd23::/64,ra-stateless",
        "--dhcp-option=option6:sntp-server,[fd00::1]",
    ])
    .unwrap();
    let e = netd_serve::ra::plan(&s.ipv6, &ctx())
        .unwrap_err()
        .to_string();
    assert!(e.contains("--dhcp-option=option6:sntp-server"), "{e}");
}
