//! The dnsmasq command lines (and libvirt's config files, in [`libvirt`])
//! that real callers generate, exactly as their sources build them, with the version each was
//! read from. These are facts about the callers' interface to dnsmasq, the
//! interface nspawn-netd has to speak; no code of theirs is copied.
//!
//! Placeholders `{NAME}` stand only where the caller substitutes a value at
//! run time (an interface name, an address it chose, a user it looked up);
//! each constant's documentation says what the caller puts there and what
//! the default is. [`render`] fills them in. Everything else is verbatim,
//! in the caller's order; an argument the caller passes as two argv words
//! (`--dhcp-range`, `VALUE`) is two words here too.

mod libvirt;

pub use libvirt::*;

/// NetworkManager 1.42.4 (Debian 12 `network-manager` 1.42.4-1+deb12u1;
/// upstream tag `1.42.4`, `src/core/dnsmasq/nm-dnsmasq-manager.c`,
/// `create_dm_cmd_line()`): the dnsmasq of a connection with
/// `ipv4.method=shared`, started with `g_spawn_async`, kept in the
/// foreground, stopped with SIGTERM.
///
/// - `{IFACE}`: the device's IP interface (a bridge connection defaults to
///   `nm-bridge`, a Wi-Fi hotspot to the Wi-Fi device).
/// - `{LISTEN_ADDRESS}`: the device's first IPv4 address: the profile's
///   first address, else the first free `10.42.N.1` (`/24`), so
///   `10.42.0.1` for the first shared device.
/// - `{DHCP_FIRST}`, `{DHCP_LAST}`: `nm_dnsmasq_utils_get_range()`: for an
///   address in the lower half of its subnet (treated as at most a /24), the
///   upper part, leaving up to 8 addresses (10 %) after the host:
///   `10.42.0.10`, `10.42.0.254` for `10.42.0.1/24`.
///
/// NetworkManager inserts more arguments in some cases, listed in
/// [`NETWORK_MANAGER_SHARED_OPTIONAL`]. Since 1.52 the lease time is `3600`
/// seconds instead of `60m` and `ipv4.shared-dhcp-range` /
/// `ipv4.shared-dhcp-lease-time` may replace the range and lease.
pub const NETWORK_MANAGER_SHARED: &[&str] = &[
    "/usr/sbin/dnsmasq",
    "--conf-file=/dev/null",
    "--no-hosts",
    "--keep-in-foreground",
    "--bind-interfaces",
    "--except-interface=lo",
    "--clear-on-reload",
    "--strict-order",
    "--listen-address={LISTEN_ADDRESS}",
    "--dhcp-range={DHCP_FIRST},{DHCP_LAST},60m",
    "--dhcp-leasefile=/var/lib/NetworkManager/dnsmasq-{IFACE}.leases",
    "--pid-file=/run/nm-dnsmasq-{IFACE}.pid",
];

/// Appended to [`NETWORK_MANAGER_SHARED`] when the directory exists, as it
/// does wherever Debian's `network-manager` package is installed ("dnsmasq
/// exits if the conf dir is not present").
pub const NETWORK_MANAGER_SHARED_CONF_DIR: &str = "--conf-dir=/etc/NetworkManager/dnsmasq-shared.d";

/// What NetworkManager 1.42.4 adds to [`NETWORK_MANAGER_SHARED`], and when:
/// `--log-dhcp --log-queries` right after the binary with `level=TRACE` for
/// the SHARING domain or `NM_DNSMASQ_DEBUG` set; after the range, a router
/// option if the shared config has a default route, DNS servers and a search
/// list if it has them (the shared config NetworkManager builds holds only
/// the address, so none of these by default), and option 43 when the
/// connection (or, metered=unknown, the default route's) is metered.
pub const NETWORK_MANAGER_SHARED_OPTIONAL: &[&str] = &[
    "--log-dhcp",
    "--log-queries",
    "--dhcp-option=option:router,{LISTEN_ADDRESS}",
    "--dhcp-option=option:dns-server,{DNS_SERVERS}",
    "--dhcp-option=option:domain-search,{SEARCH_DOMAINS}",
    "--dhcp-option-force=43,ANDROID_METERED",
];

/// [`NETWORK_MANAGER_SHARED`] with every optional argument of
/// [`NETWORK_MANAGER_SHARED_OPTIONAL`] where NetworkManager 1.42.4 puts it:
/// the two log options right after the binary, the DHCP options between
/// the range and the lease file. (`{DNS_SERVERS}` and `{SEARCH_DOMAINS}`
/// are comma-separated lists.)
pub fn network_manager_shared_with_all_options() -> Vec<&'static str> {
    let (nm, opt) = (NETWORK_MANAGER_SHARED, NETWORK_MANAGER_SHARED_OPTIONAL);
    let range = nm
        .iter()
        .position(|w| w.starts_with("--dhcp-range="))
        .expect("a range");
    [
        &nm[..1],
        &opt[..2],
        &nm[1..=range],
        &opt[2..],
        &nm[range + 1..],
    ]
    .concat()
}

/// Incus 7.3.0 (`lxc/incus` tag `v7.3.0`,
/// `internal/server/network/driver_bridge.go`, `bridge.setup()`): a managed
/// bridge as `incus admin init` makes it (`ipv4.address` and `ipv6.address`
/// `auto`, DNS mode `managed`, no `raw.dnsmasq`), run through `exec` of
/// `dnsmasq` found in `$PATH`, kept in the foreground, killed on stop;
/// output to `/var/log/incus/dnsmasq.{BRIDGE}.log`.
///
/// - `{BRIDGE}`: the network's name (`incusbr0` by default).
/// - `{IPV4_ADDRESS}`: `ipv4.address` without the prefix (a random free
///   `10.X.Y.1/24` for `auto`); `{DHCP_FIRST}`/`{DHCP_LAST}`: the subnet's
///   2nd and last-but-one addresses (`ipv4.dhcp.ranges` replaces them, and
///   `ipv4.dhcp.expiry` the `1h`).
/// - `{IPV6_ADDRESS}`: `ipv6.address` without the prefix (a random
///   `fd42:…::1/64` for `auto`).
/// - `{UNPRIV_USER}`/`{UNPRIV_GROUP}`: the first of `incus`, `nobody` /
///   `incus`, `nogroup` that exists on the host.
///
/// `/var/lib/incus` is `$INCUS_DIR` when set. `--dhcp-hostsfile` names a
/// directory of per-instance `dhcp-host` files; `dnsmasq.raw` holds
/// `raw.dnsmasq` and a newline. Other settings add `--dhcp-option-force=3,…`
/// (`ipv4.dhcp.gateway`, or `--dhcp-option=3` for `none`), `=6,…` / `=
/// option6:dns-server,…` (`dns.nameservers`), `=26,MTU`, `=119,…`
/// (`dns.search`), `=121,…` (`ipv4.dhcp.routes`); a stateful DHCPv6 range
/// replaces the `ra-stateless,ra-names` one; `dns.mode=none` drops `-s`,
/// `--interface-name` and `-S`; without `--quiet-*` when run with `--debug`.
pub const INCUS_BRIDGE: &[&str] = &[
    "dnsmasq",
    "--keep-in-foreground",
    "--strict-order",
    "--bind-interfaces",
    "--except-interface=lo",
    "--pid-file=",
    "--no-ping",
    "--interface={BRIDGE}",
    "--dhcp-rapid-commit",
    "--no-negcache",
    "--quiet-dhcp",
    "--quiet-dhcp6",
    "--quiet-ra",
    "--listen-address={IPV4_ADDRESS}",
    "--dhcp-no-override",
    "--dhcp-authoritative",
    "--dhcp-leasefile=/var/lib/incus/networks/{BRIDGE}/dnsmasq.leases",
    "--dhcp-hostsfile=/var/lib/incus/networks/{BRIDGE}/dnsmasq.hosts",
    "--dhcp-range",
    "{DHCP_FIRST},{DHCP_LAST},1h",
    "--listen-address={IPV6_ADDRESS}",
    "--enable-ra",
    "--dhcp-range",
    "::,constructor:{BRIDGE},ra-stateless,ra-names",
    "--dhcp-option-force=option6:dns-server,[{IPV6_ADDRESS}]",
    "-s",
    "incus",
    "--interface-name",
    "_gateway.incus,{BRIDGE}",
    "-S",
    "/incus/",
    "--conf-file=/var/lib/incus/networks/{BRIDGE}/dnsmasq.raw",
    "-u",
    "{UNPRIV_USER}",
    "-g",
    "{UNPRIV_GROUP}",
];

/// LXD 6.9 (`canonical/lxd` tag `lxd-6.9`, `lxd/network/driver_bridge.go`,
/// `getDnsmasqArgs()` then `startDnsmasq()`): a managed bridge as
/// `lxd init` makes it (IPv4 and IPv6 `auto`, DNS mode `managed`, not
/// clustered, no fan), run as Incus runs it (above).
///
/// Placeholders as in [`INCUS_BRIDGE`]; `{BRIDGE}` defaults to `lxdbr0`,
/// the user/group are the first of `lxd`, `nobody` / `lxd`, `nogroup`.
/// `/var/lib/lxd` is `$LXD_DIR` (the snap sets `/var/snap/lxd/common/lxd`).
/// Unlike Incus: `--dhcp-ignore-clid` (VM copies share a machine-id, hence
/// a client id), `--dhcp-hostsdir` (watched with inotify) instead of
/// `--dhcp-hostsfile`, no `dns.nameservers`, and in a cluster
/// `-S /lxd/ADDR#1053 --rev-server=SUBNET,ADDR#1053` instead of `-S /lxd/`.
pub const LXD_BRIDGE: &[&str] = &[
    "dnsmasq",
    "--keep-in-foreground",
    "--strict-order",
    "--bind-interfaces",
    "--except-interface=lo",
    "--pid-file=",
    "--no-ping",
    "--interface={BRIDGE}",
    "--no-negcache",
    "--dhcp-rapid-commit",
    "--dhcp-ignore-clid",
    "--quiet-dhcp",
    "--quiet-dhcp6",
    "--quiet-ra",
    "--listen-address={IPV4_ADDRESS}",
    "--dhcp-no-override",
    "--dhcp-authoritative",
    "--dhcp-leasefile=/var/lib/lxd/networks/{BRIDGE}/dnsmasq.leases",
    "--dhcp-hostsdir=/var/lib/lxd/networks/{BRIDGE}/dnsmasq.hosts",
    "--dhcp-range",
    "{DHCP_FIRST},{DHCP_LAST},1h",
    "--listen-address={IPV6_ADDRESS}",
    "--enable-ra",
    "--dhcp-range",
    "::,constructor:{BRIDGE},ra-stateless,ra-names",
    "-s",
    "lxd",
    "--interface-name",
    "_gateway.lxd,{BRIDGE}",
    "-S",
    "/lxd/",
    "--conf-file=/var/lib/lxd/networks/{BRIDGE}/dnsmasq.raw",
    "-u",
    "{UNPRIV_USER}",
    "-g",
    "{UNPRIV_GROUP}",
];

/// LXC 5.0.2 (Debian 12 `lxc` 1:5.0.2-1+deb12u4,
/// `/usr/libexec/lxc/lxc-net start`) with Debian's `/etc/default/lxc-net`
/// (`USE_LXC_BRIDGE="true"`, every other setting the script's default).
/// dnsmasq forks into the background; `lxc-net stop` kills the pid in the
/// pid file with SIGKILL.
///
/// - `{DNSMASQ_USER}`: the first of `lxc-dnsmasq`, `dnsmasq`, `nobody` that
///   `getent passwd` knows (`dnsmasq` where `dnsmasq-base` is installed).
///
/// Settings change: `LXC_DHCP_CONFILE` (the conf file), `LXC_DOMAIN` (adds
/// `-s DOMAIN -S /DOMAIN/` after it), `LXC_DHCP_PING=false` (adds
/// `--no-ping` before `-u`), `LXC_ADDR`, `LXC_DHCP_RANGE`, `LXC_DHCP_MAX`,
/// `LXC_BRIDGE`, and the `LXC_IPV6_*` set (appends
/// `--dhcp-range=ADDR,ra-only --listen-address ADDR`).
pub const LXC_NET: &[&str] = &[
    "dnsmasq",
    "--conf-file=/dev/null",
    "-u",
    "{DNSMASQ_USER}",
    "--strict-order",
    "--bind-interfaces",
    "--pid-file=/run/lxc/dnsmasq.pid",
    "--listen-address",
    "10.0.3.1",
    "--dhcp-range",
    "10.0.3.2,10.0.3.254",
    "--dhcp-lease-max=253",
    "--dhcp-no-override",
    "--except-interface=lo",
    "--interface=lxcbr0",
    "--dhcp-leasefile=/var/lib/misc/dnsmasq.lxcbr0.leases",
    "--dhcp-authoritative",
];

/// Debian 12's own dnsmasq service (`dnsmasq` 2.90-4~deb12u2:
/// `dnsmasq.service` runs `/usr/share/dnsmasq/systemd-helper exec`,
/// `/etc/init.d/dnsmasq start` runs the same through `start-stop-daemon`,
/// both with `/usr/share/dnsmasq/init-system-common`), with the shipped
/// `/etc/default/dnsmasq` (only `CONFIG_DIR` set), no `resolvconf` and
/// `dns-root-data` installed (dnsmasq recommends it). `Type=forking`,
/// `PIDFile=/run/dnsmasq/dnsmasq.pid`; everything else comes from
/// `/etc/dnsmasq.conf` (all comments as shipped) and `/etc/dnsmasq.d`.
///
/// With `resolvconf` installed, `-r /run/dnsmasq/resolv.conf` comes after
/// `-u dnsmasq`; `/etc/default/dnsmasq` may add `-m`, `-t`, `-i`/`-I` per
/// interface, `-l`, `-s`, `-r`, `-c` (in that order, before `-7`) and
/// `DNSMASQ_OPTS` (before `--local-service`). Without `dns-root-data` the
/// two `--trust-anchor` words are absent. The instance unit
/// `dnsmasq@NAME.service` uses `/run/dnsmasq/dnsmasq.NAME.pid` and
/// `/etc/default/dnsmasq.NAME`.
pub const DEBIAN_DNSMASQ_SERVICE: &[&str] = &[
    "/usr/sbin/dnsmasq",
    "-x",
    "/run/dnsmasq/dnsmasq.pid",
    "-u",
    "dnsmasq",
    "-7",
    "/etc/dnsmasq.d,.dpkg-dist,.dpkg-old,.dpkg-new",
    "--local-service",
    "--trust-anchor=.,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
    "--trust-anchor=.,38696,8,2,683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
];

/// `ExecStartPre=/usr/share/dnsmasq/systemd-helper checkconfig` (and the
/// init script's `restart`): the same configuration, tested, output thrown
/// away; a non-zero exit stops the start.
pub const DEBIAN_DNSMASQ_CHECKCONFIG: &[&str] = &[
    "/usr/sbin/dnsmasq",
    "--test",
    "-7",
    "/etc/dnsmasq.d,.dpkg-dist,.dpkg-old,.dpkg-new",
    "--local-service",
    "--trust-anchor=.,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
    "--trust-anchor=.,38696,8,2,683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
];

/// `argv` with every `{NAME}` replaced by its value in `vars`. Panics if a
/// placeholder has no value, or a value is given that no word uses, so a
/// renamed placeholder cannot go unnoticed.
pub fn render(argv: &[&str], vars: &[(&str, &str)]) -> Vec<String> {
    try_render(argv, vars).unwrap_or_else(|e| panic!("{e}"))
}

fn try_render(argv: &[&str], vars: &[(&str, &str)]) -> Result<Vec<String>, String> {
    let mut used = vec![false; vars.len()];
    let mut out = Vec::with_capacity(argv.len());
    for word in argv {
        let mut w = (*word).to_owned();
        for (i, (name, value)) in vars.iter().enumerate() {
            let key = format!("{{{name}}}");
            if w.contains(&key) {
                used[i] = true;
                w = w.replace(&key, value);
            }
        }
        if w.contains('{') && w.contains('}') {
            return Err(format!("{word:?} keeps a placeholder after {vars:?}"));
        }
        out.push(w);
    }
    match vars.iter().zip(used).find(|(_, used)| !used) {
        Some(((name, _), _)) => Err(format!("no word of {argv:?} has {{{name}}}")),
        None => Ok(out),
    }
}

#[test]
fn render_fills_every_placeholder_and_refuses_leftovers() {
    let argv = render(LXC_NET, &[("DNSMASQ_USER", "dnsmasq")]);
    assert_eq!(argv[3], "dnsmasq");
    assert_eq!(argv.len(), LXC_NET.len());
    assert!(try_render(INCUS_BRIDGE, &[("BRIDGE", "incusbr0")]).is_err());
    assert!(try_render(LXC_NET, &[("DNSMASQ_USER", "a"), ("BRIDGE", "b")]).is_err());
}
