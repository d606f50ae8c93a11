use super::*;
use crate::config::Inbound;

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
        our_table: Some(OurTable::Whole(Inbound::Drop)),
        ..Facts::default()
    };
    (cfg, facts)
}

fn ids(f: &[Finding]) -> Vec<&'static str> {
    f.iter().map(|f| f.id).collect()
}

#[test]
fn a_healthy_host_has_no_problems_only_the_inbound_policy() {
    let (cfg, facts) = healthy();
    let f = diagnose(&cfg, &facts);
    assert_eq!(ids(&f), ["inbound-dropped"]);
    assert_eq!(f[0].severity, Severity::Info);
    let text = render_human(&cfg, &f);
    assert!(text.contains("info [inbound-dropped]"), "{text}");
    assert!(text.contains("to change: nspawn-netd up"), "{text}");
    assert!(text.ends_with("nat0: no problems found\n"), "{text}");
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
    assert_eq!(ids(&f), ["forward-drop-policy", "inbound-dropped"]);
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
    assert_eq!(ids(&f), ["port-conflict", "inbound-dropped"]);
    assert!(f[0].message.contains("dnsmasq") && f[0].fix.contains("kill 4242"));
}

#[test]
fn missing_bridge_forwarding_off_and_missing_table_are_errors() {
    let (cfg, mut facts) = healthy();
    facts.bridge = None;
    facts.sysctls[0].1 = Some("0".into());
    facts.our_table = Some(OurTable::MissingOrAltered);
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
            "iptables-legacy",
            "inbound-dropped"
        ]
    );
    assert!(f[1].fix.contains("net.ipv6.conf.eth0.accept_ra=2"));
}

// One test per check, calling the check itself: what it reports and what it
// leaves alone.

#[test]
fn bridge_exists_wants_a_bridge_under_the_name() {
    let (cfg, mut facts) = healthy();
    assert_eq!(checks::bridge_exists(&cfg, &facts), []);
    facts.bridge.as_mut().unwrap().kind = Some("veth".into());
    let f = checks::bridge_exists(&cfg, &facts);
    assert_eq!(ids(&f), ["bridge-not-a-bridge"]);
    assert!(f[0].fix.contains("ip link delete nat0"), "{}", f[0].fix);
    facts.bridge = None;
    assert_eq!(
        ids(&checks::bridge_exists(&cfg, &facts)),
        ["bridge-missing"]
    );
}

#[test]
fn bridge_up_reports_a_down_bridge_only() {
    let (cfg, mut facts) = healthy();
    assert_eq!(checks::bridge_up(&cfg, &facts), []);
    facts.bridge.as_mut().unwrap().up = false;
    let f = checks::bridge_up(&cfg, &facts);
    assert_eq!(ids(&f), ["bridge-down"]);
    assert_eq!(f[0].fix, "ip link set nat0 up");
    // Not a bridge: bridge_exists speaks, this check stays quiet.
    facts.bridge.as_mut().unwrap().kind = None;
    assert_eq!(checks::bridge_up(&cfg, &facts), []);
}

#[test]
fn bridge_address_wants_the_gateway_address() {
    let (cfg, mut facts) = healthy();
    assert_eq!(checks::bridge_address(&cfg, &facts), []);
    facts.bridge.as_mut().unwrap().addresses = vec!["fd23::1/64".parse().unwrap()];
    let f = checks::bridge_address(&cfg, &facts);
    assert_eq!(ids(&f), ["bridge-address-missing"]);
    assert_eq!(f[0].fix, "ip address add 192.168.26.1/24 dev nat0");
    facts.bridge = None;
    assert_eq!(checks::bridge_address(&cfg, &facts), []);
}

#[test]
fn forwarding_checks_all_of_each_family_in_use() {
    let (mut cfg, mut facts) = healthy();
    assert_eq!(checks::forwarding(&cfg, &facts), []);
    for (k, v) in &mut facts.sysctls {
        if k.contains("ipv6") {
            *v = Some("0".into());
        }
    }
    let f = checks::forwarding(&cfg, &facts);
    assert_eq!(ids(&f), ["forwarding-off"]);
    assert_eq!(f[0].fix, "sysctl -w net.ipv6.conf.all.forwarding=1");
    cfg.ipv6 = None;
    assert_eq!(checks::forwarding(&cfg, &facts), []);
}

#[test]
fn rp_filter_flags_strict_mode_from_all_or_the_bridge() {
    let (cfg, mut facts) = healthy();
    assert_eq!(checks::rp_filter(&cfg, &facts), []);
    facts
        .sysctls
        .push(("net/ipv4/conf/nat0/rp_filter".into(), Some("2".into())));
    assert_eq!(checks::rp_filter(&cfg, &facts), [], "loose is fine");
    facts.sysctls[4].1 = Some("1".into()); // all/rp_filter
    facts.sysctls.pop();
    assert_eq!(ids(&checks::rp_filter(&cfg, &facts)), ["rp-filter-strict"]);
}

#[test]
fn accept_ra_trap_needs_ipv6_forwarding_and_accept_ra_1() {
    let (mut cfg, mut facts) = healthy();
    facts.ra_uplinks = vec![("eth0".into(), Some("1".into()))];
    assert_eq!(
        ids(&checks::accept_ra_trap(&cfg, &facts)),
        ["accept-ra-trap"]
    );
    facts.ra_uplinks[0].1 = Some("2".into());
    assert_eq!(checks::accept_ra_trap(&cfg, &facts), []);
    facts.ra_uplinks[0].1 = Some("1".into());
    cfg.ipv6 = None;
    assert_eq!(checks::accept_ra_trap(&cfg, &facts), []);
}

#[test]
fn firewalld_is_a_warning_with_the_trusted_zone_fix() {
    let (cfg, mut facts) = healthy();
    assert_eq!(checks::firewalld(&cfg, &facts), []);
    facts.firewalld = true;
    let f = checks::firewalld(&cfg, &facts);
    assert_eq!(ids(&f), ["firewalld"]);
    assert_eq!(f[0].severity, Severity::Warning);
    assert!(f[0].fix.contains("--add-interface=nat0"));
}

#[test]
fn forward_drop_policy_names_the_chain_and_skips_ours() {
    let (cfg, mut facts) = healthy();
    let chain = |family: &str, table: &str| BaseChainInfo {
        family: family.into(),
        table: table.into(),
        chain: "forward".into(),
        hook: HOOK_FORWARD,
        policy: "drop".into(),
    };
    facts.base_chains = vec![chain("inet", &nft::table_name("nat1")), chain("inet", "fw")];
    let f = checks::forward_drop_policy(&cfg, &facts);
    assert_eq!(ids(&f), ["forward-drop-policy"]);
    assert!(
        f[0].fix
            .starts_with("nft insert rule inet fw forward iifname \"nat0\" accept"),
        "{}",
        f[0].fix
    );
}

#[test]
fn forward_drop_rules_are_warnings_except_in_our_table() {
    let (cfg, mut facts) = healthy();
    let rule = |table: &str, handle| DropRule {
        family: "inet".into(),
        table: table.into(),
        chain: "forward".into(),
        handle,
    };
    facts.drop_rules = vec![rule(&nft::table_name("nat0"), 11), rule("fw", 7)];
    let f = checks::forward_drop_rules(&cfg, &facts);
    assert_eq!(ids(&f), ["forward-drop-rule"]);
    assert_eq!(f[0].severity, Severity::Warning);
    assert!(f[0].fix.contains("handle 7"), "{}", f[0].fix);
}

#[test]
fn iptables_legacy_lists_the_loaded_tables() {
    let (cfg, mut facts) = healthy();
    assert_eq!(checks::iptables_legacy(&cfg, &facts), []);
    facts.legacy_tables = vec!["ip:filter".into(), "ip6:nat".into()];
    let f = checks::iptables_legacy(&cfg, &facts);
    assert_eq!(ids(&f), ["iptables-legacy"]);
    assert!(f[0].message.contains("ip:filter, ip6:nat"));
}

#[test]
fn our_table_is_missing_altered_or_unreadable() {
    let (cfg, mut facts) = healthy();
    assert_eq!(checks::our_table(&cfg, &facts), []);
    facts.our_table = Some(OurTable::MissingOrAltered);
    assert_eq!(ids(&checks::our_table(&cfg, &facts)), ["our-table-missing"]);
    facts.nft_error = Some("Operation not permitted".into());
    let f = checks::our_table(&cfg, &facts);
    assert_eq!(ids(&f), ["nftables-unreadable"]);
    assert_eq!(f[0].severity, Severity::Warning);
}

#[test]
fn port_conflicts_ignore_other_addresses_and_name_unknown_owners() {
    let (cfg, mut facts) = healthy();
    let listener = |addr: &str, port, process: Option<&str>| Listener {
        proto: "udp",
        addr: addr.parse().unwrap(),
        port,
        process: process.map(Into::into),
        inode: 1,
    };
    facts.listeners = vec![
        listener("10.0.0.1", 53, Some("5/named")),
        listener("::", 547, None),
    ];
    let f = checks::port_conflicts(&cfg, &facts);
    assert_eq!(ids(&f), ["port-conflict"]);
    assert!(f[0].message.contains("(DHCPv6)"), "{}", f[0].message);
    assert!(f[0].fix.starts_with("ss -lunpt"), "{}", f[0].fix);
}

#[test]
fn inbound_policy_says_which_policy_the_whole_table_enforces() {
    let (cfg, mut facts) = healthy();
    let f = checks::inbound_policy(&cfg, &facts);
    assert_eq!(ids(&f), ["inbound-dropped"]);
    assert!(
        f[0].message.contains("192.168.26.0/24 and fd23::/64"),
        "{}",
        f[0].message
    );
    assert!(f[0].fix.contains("--allow-inbound"), "{}", f[0].fix);
    facts.our_table = Some(OurTable::Whole(Inbound::Allow));
    let f = checks::inbound_policy(&cfg, &facts);
    assert_eq!(ids(&f), ["inbound-allowed"]);
    assert_eq!(f[0].severity, Severity::Info);
    assert!(f[0].message.contains("accepted"), "{}", f[0].message);
    // No table, no policy to speak of: our_table reports that.
    facts.our_table = Some(OurTable::MissingOrAltered);
    assert_eq!(checks::inbound_policy(&cfg, &facts), []);
    facts.our_table = None;
    assert_eq!(checks::inbound_policy(&cfg, &facts), []);
}

#[test]
fn diagnose_is_every_check_in_order() {
    assert_eq!(checks::ALL.len(), 13);
    let (cfg, mut facts) = healthy();
    facts.bridge.as_mut().unwrap().up = false;
    facts.firewalld = true;
    facts.our_table = None;
    assert_eq!(
        ids(&diagnose(&cfg, &facts)),
        ["bridge-down", "firewalld", "our-table-missing"]
    );
}
