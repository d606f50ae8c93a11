//! `--dhcp-option` seen by a real client: udhcpc's hook prints what it
//! understood. Each scenario runs against nspawn-netd and against dnsmasq,
//! which must agree.

use std::collections::HashMap;

use netd_testkit::clients::{Client, Run};
use netd_testkit::lab::Lab;

use super::{Server, seed_args, start};

/// udhcpc's view of a lease from `server` run with the seed line plus
/// `extra`, asking also for `request`.
fn udhcpc_env(server: Server, extra: &[&str], request: &[&str]) -> HashMap<String, String> {
    let mut lab = Lab::new();
    let mut args = seed_args(lab.dir());
    args.extend(extra.iter().map(|s| s.to_string()));
    let daemon = start(&mut lab, server, &args);
    let c = lab.container("opt");
    let run = Run {
        request,
        ..Run::default()
    };
    let lease = Client::Udhcpc
        .obtain(&c, lab.dir(), &run)
        .unwrap_or_else(|e| panic!("{server:?}: {e}\nserver log:\n{}", daemon.log_text()));
    lease.env
}

fn both(extra: &[&str], request: &[&str], check: impl Fn(Server, &HashMap<String, String>)) {
    for server in [Server::NspawnNetd, Server::Dnsmasq] {
        check(server, &udhcpc_env(server, extra, request));
    }
}

fn get<'a>(env: &'a HashMap<String, String>, k: &str) -> Option<&'a str> {
    env.get(k).map(String::as_str)
}

#[test]
fn router_dns_domain_mtu_search_and_a_forced_option_reach_the_client() {
    both(
        &[
            "--dhcp-option=option:router,192.168.26.254",
            "--dhcp-option=6,0.0.0.0,9.9.9.9",
            "--dhcp-option=option:domain-name,lab.example",
            "--dhcp-option=option:mtu,1400",
            "--dhcp-option=119,lab.example,other.example",
            "--dhcp-option-force=224,01:02:ab",
            // Asked for by nobody and not forced: not sent.
            "--dhcp-option=option:smtp-server,192.168.26.1",
        ],
        &["mtu", "search"],
        |server, env| {
            let what = format!("{server:?}: {env:?}");
            assert_eq!(get(env, "router"), Some("192.168.26.254"), "{what}");
            assert_eq!(get(env, "dns"), Some("192.168.26.1 9.9.9.9"), "{what}");
            assert_eq!(get(env, "domain"), Some("lab.example"), "{what}");
            assert_eq!(get(env, "mtu"), Some("1400"), "{what}");
            assert_eq!(
                get(env, "search"),
                Some("lab.example other.example"),
                "{what}"
            );
            // Forced: sent though udhcpc did not ask for it.
            assert_eq!(get(env, "opt224"), Some("0102ab"), "{what}");
            assert_eq!(get(env, "opt69"), None, "{what}");
        },
    );
}

#[test]
fn classless_routes_reach_the_client_and_the_router_stays_out() {
    both(
        &["--dhcp-option=121,10.1.0.0/16,192.168.26.2,0.0.0.0/0,192.168.26.1"],
        &["staticroutes"],
        |server, env| {
            let what = format!("{server:?}: {env:?}");
            assert_eq!(
                get(env, "staticroutes"),
                Some("10.1.0.0/16 192.168.26.2 0.0.0.0/0 192.168.26.1"),
                "{what}"
            );
            // dnsmasq sends the router too; RFC 3442 says a client that
            // gets both ignores it. nspawn-netd leaves it out.
            if matches!(server, Server::NspawnNetd) {
                assert_eq!(get(env, "router"), None, "{what}");
            }
        },
    );
}

#[test]
fn a_bare_router_option_sends_no_router() {
    both(&["--dhcp-option=3"], &[], |server, env| {
        let what = format!("{server:?}: {env:?}");
        assert_eq!(get(env, "router"), None, "{what}");
        assert_eq!(get(env, "dns"), Some("192.168.26.1"), "{what}");
    });
}

#[test]
fn options_follow_the_tags_of_the_range() {
    for server in [Server::NspawnNetd, Server::Dnsmasq] {
        let mut lab = Lab::new();
        // The seed line with its range tagged `lan`.
        let mut args: Vec<String> = seed_args(lab.dir())
            .into_iter()
            .map(|a| match a.strip_prefix("--dhcp-range=") {
                Some(range) => format!("--dhcp-range=set:lan,{range}"),
                None => a,
            })
            .collect();
        args.extend(
            [
                "--dhcp-option=tag:lan,option:mtu,1300",
                "--dhcp-option=tag:!lan,option:mtu,1200",
                "--dhcp-option=tag:other,option:domain-name,wrong.example",
            ]
            .map(String::from),
        );
        let daemon = start(&mut lab, server, &args);
        let c = lab.container("tag");
        let run = Run {
            request: &["mtu"],
            ..Run::default()
        };
        let lease = Client::Udhcpc
            .obtain(&c, lab.dir(), &run)
            .unwrap_or_else(|e| panic!("{server:?}: {e}\n{}", daemon.log_text()));
        let what = format!("{server:?}: {:?}", lease.env);
        assert_eq!(get(&lease.env, "mtu"), Some("1300"), "{what}");
        assert_eq!(lease.domain, None, "{what}");
    }
}
