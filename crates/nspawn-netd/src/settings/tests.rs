use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use netd_proto::dhcp6::Dhcp6Config;
use netd_proto::ra::Lifetime;
use netd_serve::ServeError;
use netd_serve::iface::InterfaceInfo;
use netd_serve::ra::{Ipv6Plan, Ipv6Settings};
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

fn dns() -> Vec<IpAddr> {
    vec!["192.168.26.1".parse().unwrap(), "fd23::1".parse().unwrap()]
}

/// The IPv6 ranges and `--ra-param`s parsed as the command line would,
/// then planned on `iface`.
fn plan(
    ranges: &[&str],
    enable_ra: bool,
    ra_params: &[&str],
    iface: &InterfaceInfo,
    dns: &[IpAddr],
    domain: Option<&str>,
) -> Result<Option<Ipv6Plan>, ServeError> {
    let src = |opt: &'static str, s: &str| (opt, s.to_owned());
    let settings = Ipv6Settings {
        ranges: ranges
            .iter()
            .map(|r| {
                let (opt, text) = src("dhcp-range", r);
                let DhcpRange::V6(v) = values::dhcp_range(r).unwrap() else {
                    panic!("not IPv6: {r}")
                };
                Sourced::new(v, opt, text, Origin::CommandLine)
            })
            .collect(),
        enable_ra,
        ra_params: ra_params
            .iter()
            .map(|p| {
                Sourced::new(
                    values::ra_param(p).unwrap(),
                    "ra-param",
                    *p,
                    Origin::CommandLine,
                )
            })
            .collect(),
        dhcp6_options: Vec::new(),
    };
    let ctx = Context::new(iface.clone(), dns.to_vec(), domain.map(str::to_owned));
    netd_serve::ra::plan(&settings, &ctx)
}

#[test]
fn the_seed_range_gives_stateless_ra_with_dhcpv6_and_names() {
    let p = plan(
        &["fd23::/64,ra-stateless,ra-names"],
        false,
        &[],
        &nat0(),
        &dns(),
        Some("lan"),
    )
    .unwrap()
    .unwrap();
    assert!(p.ra_names && p.ra.other_config && !p.ra.managed);
    assert_eq!(p.ra.prefixes[0].network, "fd23::/64".parse().unwrap());
    assert!(p.ra.prefixes[0].autonomous);
    assert_eq!(p.ra.prefixes[0].valid_lifetime, Lifetime::INFINITY);
    assert_eq!(p.ra.dns_servers, ["fd23::1".parse::<Ipv6Addr>().unwrap()]);
    assert_eq!(p.ra.search_domains, ["lan"]);
    assert_eq!(p.ra.router_lifetime, 1800);
    let d = p.dhcp6.unwrap();
    assert_eq!(d.dns_servers, p.ra.dns_servers);
    assert_eq!(d.server_duid, Dhcp6Config::duid_ll([2, 0, 0, 0, 0, 1]));
}

#[test]
fn constructor_enable_ra_and_ra_param() {
    let p = plan(
        &["::,constructor:nat0,ra-only"],
        false,
        &[],
        &nat0(),
        &[],
        None,
    )
    .unwrap()
    .unwrap();
    assert_eq!(p.ra.prefixes[0].network, "fd23::/64".parse().unwrap());
    assert!(p.dhcp6.is_none() && !p.ra.other_config && p.ra.dns_servers.is_empty());
    let p = plan(&[], true, &["nat0,high,60,1200"], &nat0(), &dns(), None)
        .unwrap()
        .unwrap();
    assert_eq!(p.ra.prefixes.len(), 1);
    assert_eq!(p.ra.timing.max_interval, Duration::from_secs(60));
    assert_eq!(p.ra.router_lifetime, 1200);
    assert!(
        plan(&[], false, &[], &nat0(), &dns(), None)
            .unwrap()
            .is_none()
    );
    let mut v4_only = nat0();
    v4_only.ipv6.retain(|n| n.ip().is_unicast_link_local());
    assert!(
        plan(&[], true, &[], &v4_only, &dns(), None)
            .unwrap()
            .is_none()
    );
}

#[test]
fn errors_name_what_is_wrong() {
    let mut bare = nat0();
    bare.ipv6.retain(|n| n.ip().is_unicast_link_local());
    let e = plan(
        &["::,constructor:nat0,ra-only"],
        false,
        &[],
        &bare,
        &[],
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("no global IPv6 address"), "{e}");
    let e = plan(
        &["::,constructor:eth0,ra-only"],
        false,
        &[],
        &nat0(),
        &[],
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("eth0"), "{e}");
    let e = plan(&["fd23::,ra-only"], false, &["eth1,60"], &nat0(), &[], None).unwrap_err();
    assert!(e.to_string().contains("eth1"), "{e}");
    let e = plan(
        &["fd23::,ra-only", "fd23::/64,ra-stateless"],
        false,
        &[],
        &nat0(),
        &[],
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("twice"), "{e}");
}

#[test]
fn a_bad_value_in_a_file_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("lxc.conf");
    std::fs::write(&conf, "interface=nat0\n\ndhcp-range=10.0.3.2,banana\n").unwrap();
    let e = load_args(&[&format!("--conf-file={}", conf.display())])
        .unwrap_err()
        .to_string();
    let want = format!("{}:3: --dhcp-range=10.0.3.2,banana", conf.display());
    assert!(e.contains(&want) && e.contains("banana"), "{e}");
    let e = load_args(&["--dhcp-range=10.0.3.2,banana"])
        .unwrap_err()
        .to_string();
    assert!(e.contains("--dhcp-range") && e.contains("banana"), "{e}");
}

#[test]
fn values_keep_where_they_were_given_and_plans_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("x.conf");
    std::fs::write(&conf, "# c\ndhcp-range=10.9.0.2,10.9.0.9\n").unwrap();
    let s = load_args(&[
        "--interface=nat0",
        "-C",
        conf.to_str().unwrap(),
        "--dhcp-host=02:00:00:00:00:07,10.9.0.7",
    ])
    .unwrap();
    let r = &s.dhcp4.ranges[0];
    assert_eq!(
        r.origin,
        Origin::File {
            path: conf.clone(),
            line: 2
        }
    );
    assert_eq!(r.text, "10.9.0.2,10.9.0.9");
    assert_eq!(s.dhcp4.hosts[0].origin, Origin::CommandLine);
    let ctx = Context::new(nat0(), dns(), None);
    let e = netd_serve::dhcp4::plan(&s.dhcp4, &ctx)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!(
            "{}:2: --dhcp-range=10.9.0.2,10.9.0.9:",
            conf.display()
        )),
        "{e}"
    );
}

#[test]
fn process_options_as_dnsmasq_reads_them() {
    let s = load_args(&["--interface=nat0", "--pid-file="]).unwrap();
    assert_eq!(s.process.pid_file, None, "an empty --pid-file= means none");
    assert_eq!(s.process.mode, RunMode::Fork);
    assert_eq!(s.process.user.as_deref(), Some(DEFAULT_USER));
    assert_eq!(s.log.target, LogTarget::Syslog("daemon".into()));
    let s = load_args(&[
        "-k",
        "-u",
        "lxc-dnsmasq",
        "-g",
        "nogroup",
        "--log-facility=/var/log/x.log",
    ])
    .unwrap();
    assert_eq!(s.process.mode, RunMode::Foreground);
    assert_eq!(s.process.user.as_deref(), Some("lxc-dnsmasq"));
    assert_eq!(s.process.group.as_deref(), Some("nogroup"));
    assert_eq!(s.log.target, LogTarget::File("/var/log/x.log".into()));
    let s = load_args(&["-d", "--log-facility=local0"]).unwrap();
    assert_eq!(
        (s.process.mode, s.log.target),
        (RunMode::Debug, LogTarget::Stderr)
    );
    assert!(load_args(&["--log-facility=nonsense"]).is_err());
}

#[test]
fn the_callers_compatibility_flags_are_accepted() {
    let s = load_args(&[
        "--conf-file=/dev/null",
        "-u",
        "nobody",
        "--strict-order",
        "--bind-interfaces",
        "--listen-address=10.0.3.1",
        "--dhcp-range=10.0.3.2,10.0.3.254",
        "--dhcp-lease-max=253",
        "--dhcp-no-override",
        "--except-interface=lo",
        "--interface=lxcbr0",
        "--dhcp-authoritative",
        "--no-ping",
        "--clear-on-reload",
        "--quiet-dhcp",
        "--quiet-dhcp6",
        "--quiet-ra",
        "--log-async",
        "--local-service",
    ])
    .unwrap();
    assert_eq!(s.dhcp4.lease_max, Some(253));
    assert!(s.log.quiet_dhcp && s.log.quiet_ra);
}

#[test]
fn run_as_dnsmasq_the_pid_file_defaults_to_dnsmasqs() {
    let load_as = |argv0: &str, args: &[&str]| {
        let argv = std::iter::once(argv0)
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        let loaded = load(argv).unwrap();
        loaded.daemon_settings(&loaded.cli.daemon).unwrap()
    };
    let none = ["--conf-file=/dev/null"];
    assert_eq!(
        load_as("/usr/sbin/dnsmasq", &none).process.pid_file,
        Some(PathBuf::from(DNSMASQ_PID_FILE))
    );
    assert_eq!(
        load_as(
            "/usr/sbin/dnsmasq",
            &["--conf-file=/dev/null", "--pid-file="]
        )
        .process
        .pid_file,
        None
    );
    assert_eq!(load_as("nspawn-netd", &none).process.pid_file, None);
}

#[test]
fn the_program_name_decides_the_identity() {
    assert_eq!(
        Identity::of(Some("/usr/sbin/dnsmasq".as_ref())),
        Identity::Dnsmasq
    );
    assert_eq!(
        Identity::of(Some("nspawn-netd".as_ref())),
        Identity::NspawnNetd
    );
    assert_eq!(Identity::of(None), Identity::NspawnNetd);
    let first = crate::version_text(Identity::Dnsmasq);
    let first = first.lines().next().unwrap();
    assert!(first.starts_with("Dnsmasq version 2.90 "), "{first}");
    assert_eq!(
        first.split(' ').nth(2),
        Some("2.90"),
        "LXD reads the third word"
    );
    assert!(first.contains("nspawn-netd"));
}

#[test]
fn dns_limits_reach_the_plan_and_our_own_address_is_no_upstream() {
    let s = load_args(&[
        "--max-cache-ttl=600",
        "--min-cache-ttl=30",
        "--dns-forward-max=40",
    ])
    .unwrap();
    assert_eq!(s.dns.ttls.max, 600);
    assert_eq!(s.dns.ttls.min, 30);
    assert_eq!(s.dns.forward_max, 40);
    let ctx = Context::new(nat0(), dns(), None);
    let p = netd_serve::dns::plan(&s.dns, &ctx).unwrap().unwrap();
    assert_eq!(p.config.ttls, s.dns.ttls);
    assert!(p.descriptors() < 1000, "{}", p.descriptors());
    let d = load_args(&[]).unwrap().dns;
    assert_eq!(d.ttls.max, 86_400, "a day unless told");
    assert_eq!(d.forward_max, 150);
    let e = load_args(&["--min-cache-ttl=600", "--max-cache-ttl=60"]).unwrap_err();
    assert!(e.to_string().contains("--min-cache-ttl=600"), "{e}");
    for server in ["--server=192.168.26.1", "--server=/corp/fd23::1"] {
        let s = load_args(&[server]).unwrap();
        let e = netd_serve::dns::plan(&s.dns, &ctx).unwrap_err().to_string();
        assert!(
            e.contains("own DNS address") && e.contains("--server="),
            "{e}"
        );
    }
    // Another port of the same address is another server.
    let s = load_args(&["--server=192.168.26.1#5353"]).unwrap();
    assert!(netd_serve::dns::plan(&s.dns, &ctx).is_ok());
}

#[test]
fn local_record_options_parse_with_their_file_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("records.conf");
    std::fs::write(
        &conf,
        "host-record=nas,10.0.3.5\nhost-record=nas,10.0.3.6,x\n",
    )
    .unwrap();
    let e = load_args(&[&format!("--conf-file={}", conf.display())])
        .unwrap_err()
        .to_string();
    let want = format!("{}:2: --host-record=nas,10.0.3.6,x", conf.display());
    assert!(e.contains(&want) && e.contains("not a TTL"), "{e}");
    let s = load_args(&[
        "--interface=nat0",
        "--domain=lan",
        "--local=/lan/",
        "--rev-server=10.9.0.0/16,10.0.0.1",
        "--srv-host=_ldap._tcp,nas.lan,389",
        "--mx-host=lan,mail.lan",
        "--cname=www,nas.lan",
        "--interface-name=gw.lan,nat0/4",
        "-T",
        "60",
        "--no-ident",
        "-E",
    ])
    .unwrap();
    let d = &s.dns;
    assert_eq!(d.servers.len(), 2);
    assert_eq!(d.servers[1].option, "rev-server");
    assert!(d.no_ident && d.expand_hosts);
    assert_eq!(d.local_ttl, 60);
    assert_eq!(d.interface_names[0].value.interface, "nat0");
    let names: Vec<String> = d
        .records
        .iter()
        .map(|r| match &r.value {
            netd_proto::dns::RecordSpec::Srv { name, .. }
            | netd_proto::dns::RecordSpec::Mx { name, .. } => name.clone(),
            netd_proto::dns::RecordSpec::Cname { aliases, .. } => aliases[0].clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        names,
        ["www", "_ldap._tcp.lan", "lan"],
        "--srv-host got the domain"
    );
    let e = load_args(&["--domain=lan,10.0.0.0/8,local"])
        .unwrap_err()
        .to_string();
    assert!(e.contains("--domain") && e.contains("not supported"), "{e}");
}
