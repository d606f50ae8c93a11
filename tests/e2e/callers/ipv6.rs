//! What a container sees of a caller's IPv6 side: a SLAAC address from the
//! router advertisements (`ra-stateless` ranges set the A and O flags), and
//! the DNS servers of a stateless DHCPv6 exchange (ISC dhclient `-6 -S`:
//! Information-request, Reply).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use netd_testkit::lab::{Netns, read_or_empty, wait_until};

/// The non-tentative global address `host0` formed in `prefix` (an
/// address's first groups and colon, `fd42:5cd4:95b6:7f3e:`) from a router
/// advertisement, waiting ≤ 30 s (a busy machine); `None` if there is none
/// by then.
pub fn slaac_address(ns: &Netns, prefix: &str) -> Option<String> {
    let mut found = None;
    wait_until(Duration::from_secs(30), || {
        let out = ns.run_ok(&[
            "ip", "-6", "-o", "addr", "show", "dev", "host0", "scope", "global",
        ]);
        found = out
            .lines()
            .filter(|l| !l.contains("tentative"))
            .filter_map(|l| l.split_whitespace().nth(3))
            .find(|a| a.starts_with(prefix))
            .map(|a| a.split('/').next().unwrap_or(a).to_owned());
        found.is_some()
    });
    found
}

/// The DNS servers (`new_dhcp6_name_servers`) a stateless DHCPv6 exchange
/// on `host0` gives, waiting ≤ 15 s; `Err` with dhclient's environment
/// file (empty if it got no Reply) otherwise. dhclient's files go in `dir`.
pub fn dhcp6_name_servers(ns: &Netns, dir: &Path) -> Result<String, String> {
    // dhclient binds to the link-local address, which must be past
    // duplicate address detection.
    wait_until(Duration::from_secs(10), || {
        let out = ns.run_ok(&[
            "ip", "-6", "-o", "addr", "show", "dev", "host0", "scope", "link",
        ]);
        !out.is_empty() && !out.contains("tentative")
    });
    let state = dir.join(format!("dhclient6-{}", ns.name));
    fs::create_dir_all(&state).expect("dhclient's state dir");
    let env_out = state.join("env");
    let script = state.join("hook.sh");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\nenv > '{0}.tmp' && mv '{0}.tmp' '{0}'\n",
            env_out.display()
        ),
    )
    .expect("writing dhclient's hook");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod hook");
    let path = |p: &Path| p.display().to_string();
    let mut child = ns
        .cmd("dhclient")
        .args(["-6", "-S", "-d", "-lf"])
        .arg(path(&state.join("leases")))
        .arg("-pf")
        .arg(path(&state.join("pid")))
        .arg("-sf")
        .arg(path(&script))
        .arg("host0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting dhclient -6");
    let key = "new_dhcp6_name_servers=";
    wait_until(Duration::from_secs(15), || {
        read_or_empty(&env_out).contains(key)
    });
    let _ = child.kill();
    let _ = child.wait();
    let env = read_or_empty(&env_out);
    env.lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim_matches('\'').to_owned())
        .ok_or(env)
}
