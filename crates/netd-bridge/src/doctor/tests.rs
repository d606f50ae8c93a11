use super::*;

fn healthy() -> (BridgeConfig, Facts) {
    let cfg = BridgeConfig::default_nat0();
    let facts = Facts {
        bridge: Some(ObservedLink {
            index: 3,
            kind: Some("bridge".into()),
            mac: cfg.mac().to_vec(),
            mtu: None,
            up: true,
            addresses: vec![
                "192.168.26.1/24".parse().unwrap(),
                "fd23::1/64".parse().unwrap(),
            ],
        }),
        sysctls: forwarding_keys(true)
            .into_iter()
            .map(|k| (k, Some("1".to_string())))
            .chain([(
                "net/ipv4/conf/all/rp_filter".to_string(),
                Some("0".to_string()),
            )])
            .collect(),
        our_table_intact: Some(true),
        ..Facts::default()
    };
    (cfg, facts)
}

fn ids(f: &[Finding]) -> Vec<&'static str> {
    f.iter().map(|f| f.id).collect()
}

#[test]
fn a_healthy_host_has_no_findings() {
    let (cfg, facts) = healthy();
    assert_eq!(diagnose(&cfg, &facts), []);
}

#[test]
fn a_forward_drop_policy_elsewhere_is_an_error_with_a_fix() {
    let (cfg, mut facts) = healthy();
    facts.base_chains.push(BaseChainInfo {
        family: "ip".into(),
        table: "filter".into(),
        chain: "FORWARD".into(),
        hook: HOOK_FORWARD,
        policy: "drop".into(),
    });
    let f = diagnose(&cfg, &facts);
    assert_eq!(ids(&f), ["forward-drop-policy"]);
    assert!(
        f[0].fix.contains("iptables -I FORWARD -i nat0"),
        "{}",
        f[0].fix
    );
}

#[test]
fn a_port_53_listener_of_another_program_is_reported_ours_is_not() {
    let (cfg, mut facts) = healthy();
    facts.listeners = vec![
        Listener {
            proto: "udp",
            addr: "192.168.26.1".parse().unwrap(),
            port: 53,
            process: Some("4242/dnsmasq".into()),
            inode: 1,
        },
        Listener {
            proto: "udp",
            addr: "192.168.26.1".parse().unwrap(),
            port: 67,
            process: Some("77/nspawn-netd".into()),
            inode: 2,
        },
        Listener {
            proto: "udp",
            addr: "127.0.0.53".parse().unwrap(),
            port: 53,
            process: Some("1/systemd-resolve".into()),
            inode: 3,
        },
    ];
    let f = diagnose(&cfg, &facts);
    assert_eq!(ids(&f), ["port-conflict"]);
    assert!(f[0].message.contains("dnsmasq") && f[0].fix.contains("kill 4242"));
}

#[test]
fn missing_bridge_forwarding_off_and_missing_table_are_errors() {
    let (cfg, mut facts) = healthy();
    facts.bridge = None;
    facts.sysctls[0].1 = Some("0".into());
    facts.our_table_intact = Some(false);
    assert_eq!(
        ids(&diagnose(&cfg, &facts)),
        ["bridge-missing", "forwarding-off", "our-table-missing"]
    );
}

#[test]
fn the_accept_ra_trap_and_strict_rp_filter_are_reported() {
    let (cfg, mut facts) = healthy();
    facts.ra_uplinks = vec![
        ("eth0".into(), Some("1".into())),
        ("wlan0".into(), Some("2".into())),
    ];
    facts
        .sysctls
        .push(("net/ipv4/conf/nat0/rp_filter".into(), Some("1".into())));
    facts.firewalld = true;
    facts.legacy_tables = vec!["ip:filter".into()];
    let f = diagnose(&cfg, &facts);
    assert_eq!(
        ids(&f),
        [
            "rp-filter-strict",
            "accept-ra-trap",
            "firewalld",
            "iptables-legacy"
        ]
    );
    assert!(f[1].fix.contains("net.ipv6.conf.eth0.accept_ra=2"));
}
