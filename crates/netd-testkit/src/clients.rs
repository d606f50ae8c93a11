//! Real DHCPv4 clients — ISC dhclient, busybox udhcpc, dhcpcd — run in a
//! container namespace. Each calls a hook script that records its variables,
//! from which a [`Lease`] is read, whatever the client's own names for them.

use std::collections::HashMap;
use std::fs;
use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::lab::Netns;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Dhclient,
    Udhcpc,
    Dhcpcd,
}

pub const ALL: [Client; 3] = [Client::Dhclient, Client::Udhcpc, Client::Dhcpcd];

/// What a client was given, as it understood it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub addr: Ipv4Addr,
    pub netmask: Option<Ipv4Addr>,
    pub routers: Vec<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
    pub lease_secs: Option<u64>,
    pub domain: Option<String>,
    /// Everything the client's hook saw, for options not named above
    /// (udhcpc: `mtu`, `staticroutes`, `search`, `optNN` for options it
    /// has no name for).
    pub env: HashMap<String, String>,
}

/// Options for one client run.
#[derive(Debug, Clone, Default)]
pub struct Run<'a> {
    /// Sent as option 12.
    pub hostname: Option<&'a str>,
    /// Ask for this address (udhcpc `-r`, dhclient's
    /// `send dhcp-requested-address`).
    pub requested: Option<Ipv4Addr>,
    /// More options to ask for, by udhcpc's names (`-O mtu`); udhcpc only.
    pub request: &'a [&'a str],
}

impl Client {
    pub fn name(self) -> &'static str {
        match self {
            Client::Dhclient => "dhclient",
            Client::Udhcpc => "udhcpc",
            Client::Dhcpcd => "dhcpcd",
        }
    }

    /// Runs the client once on `host0` in `ns`, with its state under `dir`,
    /// and returns the lease it got, or `None` with the client's output.
    pub fn obtain(self, ns: &Netns, dir: &Path, run: &Run<'_>) -> Result<Lease, String> {
        let state = self.state_dir(ns, dir);
        let _ = fs::remove_dir_all(&state);
        fs::create_dir_all(&state).expect("client state dir");
        let script = hook_script(&state);
        assert!(
            run.request.is_empty() || self == Client::Udhcpc,
            "Run::request is udhcpc's"
        );
        let out = match self {
            Client::Udhcpc => udhcpc(ns, &script, run),
            Client::Dhclient => dhclient(ns, &state, &script, run),
            Client::Dhcpcd => dhcpcd(ns, &script, run),
        };
        let vars = ["bound", "BOUND", "REBOOT", "renew"]
            .iter()
            .map(|r| state.join(format!("{r}.env")))
            .find(|p| p.exists());
        match vars {
            Some(path) => Ok(self.lease(&read_env(&path))),
            None => Err(format!(
                "{} got no lease ({}):\nstdout: {}\nstderr: {}",
                self.name(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )),
        }
    }

    fn state_dir(self, ns: &Netns, dir: &Path) -> PathBuf {
        dir.join(format!("{}-{}", self.name(), ns.name))
    }

    /// Sends a DHCPRELEASE for the lease `obtain` got (dhclient `-r`, which
    /// also stops the dhclient left running). Only dhclient: udhcpc `-q`
    /// exits before it could release, and dhcpcd `-1` has already exited.
    pub fn release(self, ns: &Netns, dir: &Path) {
        assert_eq!(self, Client::Dhclient, "only dhclient releases here");
        let state = self.state_dir(ns, dir);
        let path = |f: &str| state.join(f).display().to_string();
        ns.run_ok(&[
            "dhclient",
            "-r",
            "-v",
            "-cf",
            &path("dhclient.conf"),
            "-lf",
            &path("dhclient.leases"),
            "-pf",
            &path("dhclient.pid"),
            "-sf",
            &path("hook.sh"),
            "host0",
        ]);
    }

    fn lease(self, env: &HashMap<String, String>) -> Lease {
        let get = |k: &str| env.get(k).cloned().filter(|v| !v.is_empty());
        let addrs = |k: &str| -> Vec<Ipv4Addr> {
            get(k)
                .map(|v| {
                    v.split_whitespace()
                        .filter_map(|a| a.parse().ok())
                        .collect()
                })
                .unwrap_or_default()
        };
        let (addr, mask, routers, dns, lease, domain) = match self {
            Client::Udhcpc => ("ip", "subnet", "router", "dns", "lease", "domain"),
            Client::Dhclient | Client::Dhcpcd => (
                "new_ip_address",
                "new_subnet_mask",
                "new_routers",
                "new_domain_name_servers",
                "new_dhcp_lease_time",
                "new_domain_name",
            ),
        };
        Lease {
            addr: get(addr)
                .and_then(|a| a.parse().ok())
                .unwrap_or_else(|| panic!("{} hook saw no address: {env:?}", self.name())),
            netmask: get(mask).and_then(|m| m.parse().ok()),
            routers: addrs(routers),
            dns: addrs(dns),
            lease_secs: get(lease).and_then(|l| l.parse().ok()),
            domain: get(domain),
            env: env.clone(),
        }
    }
}

/// A hook that records its environment in `<reason>.env` and puts the
/// address on the interface, as a client's own script would (so that a later
/// unicast RELEASE can be sent).
fn hook_script(state: &Path) -> PathBuf {
    let path = state.join("hook.sh");
    let text = format!(
        "#!/bin/sh\n\
         r=\"${{reason:-$1}}\"\n\
         env | sort > '{dir}/'\"$r\".env.tmp && mv '{dir}/'\"$r\".env.tmp '{dir}/'\"$r\".env\n\
         a=\"${{ip:-$new_ip_address}}\"; m=\"${{subnet:-$new_subnet_mask}}\"\n\
         case \"$r\" in bound|renew|BOUND|REBOOT|RENEW)\n\
           ip addr flush dev \"$interface\"; ip addr add \"$a/$m\" dev \"$interface\";;\n\
         esac\n\
         exit 0\n",
        dir = state.display()
    );
    fs::write(&path, text).expect("writing the hook script");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod hook");
    path
}

fn read_env(path: &Path) -> HashMap<String, String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
        .collect()
}

fn udhcpc(ns: &Netns, script: &Path, run: &Run<'_>) -> Output {
    let script = script.display().to_string();
    let mut argv = vec![
        "udhcpc", "-f", "-q", "-n", "-i", "host0", "-t", "5", "-T", "1", "-A", "1", "-s", &script,
    ];
    let hostname = run.hostname.map(|h| format!("hostname:{h}"));
    if let Some(h) = &hostname {
        argv.extend(["-x", h]);
    }
    let requested = run.requested.map(|a| a.to_string());
    if let Some(r) = &requested {
        argv.extend(["-r", r]);
    }
    for name in run.request {
        argv.extend(["-O", name]);
    }
    ns.run(&argv)
}

fn dhclient(ns: &Netns, state: &Path, script: &Path, run: &Run<'_>) -> Output {
    let conf = state.join("dhclient.conf");
    let mut text = String::from("timeout 15;\nretry 1;\n");
    if let Some(h) = run.hostname {
        text.push_str(&format!("send host-name \"{h}\";\n"));
    }
    if let Some(a) = run.requested {
        text.push_str(&format!("send dhcp-requested-address {a};\n"));
    }
    fs::write(&conf, text).expect("writing dhclient.conf");
    let (lf, pf) = (state.join("dhclient.leases"), state.join("dhclient.pid"));
    // -1: try once; after BOUND it forks into the background (the lab kills
    // it), so this returns as soon as the lease is known.
    ns.run(&[
        "dhclient",
        "-1",
        "-v",
        "-cf",
        &conf.display().to_string(),
        "-lf",
        &lf.display().to_string(),
        "-pf",
        &pf.display().to_string(),
        "-sf",
        &script.display().to_string(),
        "host0",
    ])
}

fn dhcpcd(ns: &Netns, script: &Path, run: &Run<'_>) -> Output {
    // dhcpcd keeps its pid file and DUID under /run/dhcpcd and
    // /var/lib/dhcpcd; private tmpfs mounts (in the mount namespace that
    // `ip netns exec` made for this command alone) keep parallel runs apart.
    let hostname = run.hostname.map(|h| format!("-h {h}")).unwrap_or_default();
    let cmd = format!(
        "mkdir -p /run/dhcpcd /var/lib/dhcpcd && mount -t tmpfs tmpfs /run/dhcpcd && \
         mount -t tmpfs tmpfs /var/lib/dhcpcd && \
         exec dhcpcd -4 -1 -B -A -t 15 -c '{}' {hostname} host0",
        script.display()
    );
    ns.run(&["sh", "-c", &cmd])
}
