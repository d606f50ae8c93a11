//! The DHCPv4 service, in the shape every service has: [`plan`] (pure:
//! settings and the interface in, the server's configuration out, or an
//! error naming the option and where it was given), [`Dhcp4Plan::bind`]
//! (opens and replays the lease journal, opens port 67: everything that
//! can fail before readiness), [`Dhcp4Bound::run`] (spawns the task).

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ipnetwork::Ipv4Network;
use netd_proto::dhcp4::{
    Dhcp4Config, Dhcp4Option, Dhcp4Range, LeaseRecord, LeaseTime, Reservation, Server, Tag,
};
use tracing::{info, warn};

use super::arp_probe::{ArpProber, ArpSocket};
use super::hosts::{self, HostCheck, HostsFiles, OptsFiles, Sources, Update};
use super::journal::{self, FileSlots, JournalPaths, SnapshotOnDisk};
use super::persist::Persistence;
use super::script::{ScriptContext, ScriptQueue};
use super::{Dhcp4Shell, Dhcp4Socket, LeaseStore, LeaseView};
use crate::ServeError;
use crate::atomic_file::FileWriter;
use crate::iface::InterfaceInfo;
use crate::process::ScriptRunner;
use crate::service::{Context, Tasks};
use crate::settings::Sourced;
use crate::stats::{self, Dhcp4Stats};

/// How long a DECLINEd address stays out of the pool (dnsmasq: 10 minutes).
const DECLINE_HOLD: Duration = Duration::from_secs(600);
/// dnsmasq's default `--dhcp-lease-max`.
pub(crate) const DEFAULT_LEASE_MAX: usize = 1000;

/// One IPv4 `--dhcp-range`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Range {
    pub start: Ipv4Addr,
    pub end: Ipv4Addr,
    pub netmask: Option<Ipv4Addr>,
    pub lease: Option<LeaseTime>,
    /// `set:TAG`: tags the requests this range serves carry.
    pub tags: Vec<Tag>,
    /// `ADDR,static`: the subnet of ADDR, served to reservations only
    /// (`start` and `end` are both ADDR).
    pub static_only: bool,
}

/// What the options say about DHCPv4.
#[derive(Debug, Clone, Default)]
pub struct Dhcp4Settings {
    pub ranges: Vec<Sourced<Ipv4Range>>,
    pub hosts: Vec<Sourced<Reservation>>,
    /// `--dhcp-hostsfile` and `--dhcp-hostsdir`.
    pub hosts_files: HostsFiles,
    /// `--dhcp-optsfile` and `--dhcp-optsdir`, with the line parser.
    pub opts_files: OptsFiles,
    pub lease_file: PathBuf,
    pub lease_max: Option<usize>,
    /// `--dhcp-script`: run (by the script runner) on lease changes.
    pub script: Option<PathBuf>,
    /// `--leasefile-ro`: no lease file; the leases come from `SCRIPT init`.
    pub leasefile_ro: bool,
    /// `--dhcp-option` and `--dhcp-option-force`, DHCPv4 ones.
    pub options: Vec<Sourced<Dhcp4Option>>,
    /// `--dhcp-rapid-commit`.
    pub rapid_commit: bool,
    /// `--dhcp-ignore-clid`.
    pub ignore_client_id: bool,
}

/// The server's configuration on this interface.
#[derive(Debug)]
pub struct Dhcp4Plan {
    pub config: Dhcp4Config,
    /// The command line's entries (checked) and options, which every
    /// re-read of the files starts from, and the files.
    sources: Sources,
    pub lease_file: PathBuf,
    pub lease_max: usize,
    pub leasefile_ro: bool,
    /// Runs `--dhcp-script` (forked before the runtime, with the first
    /// privileges).
    runner: Option<ScriptRunner>,
}

/// `None` when no IPv4 range is given.
pub fn plan(settings: &Dhcp4Settings, ctx: &Context) -> Result<Option<Dhcp4Plan>, ServeError> {
    if settings.ranges.is_empty() {
        return Ok(None);
    }
    let dns: Vec<Ipv4Addr> = ctx
        .dns_addresses
        .iter()
        .filter_map(|a| match a {
            IpAddr::V4(a) => Some(*a),
            IpAddr::V6(_) => None,
        })
        .collect();
    let mut config = resolve(
        &settings.ranges,
        &ctx.iface,
        dns,
        ctx.domain.clone(),
        &settings.hosts,
    )?;
    config.options = settings.options.iter().map(|o| o.value.clone()).collect();
    config.rapid_commit = settings.rapid_commit;
    config.ignore_client_id = settings.ignore_client_id;
    let sources = Sources {
        base_hosts: config.reservations.clone(),
        hosts: settings.hosts_files.clone(),
        check: host_check(&config),
        base_options: config.options.clone(),
        opts: settings.opts_files.clone(),
    };
    let loaded = sources.load();
    config.reservations = loaded.hosts;
    config.options = loaded.options;
    Ok(Some(Dhcp4Plan {
        config,
        sources,
        lease_file: settings.lease_file.clone(),
        lease_max: settings.lease_max.unwrap_or(DEFAULT_LEASE_MAX),
        leasefile_ro: settings.leasefile_ro,
        runner: None,
    }))
}

/// Places every range on a subnet of the interface or, with a netmask, on
/// a subnet behind a relay agent, and checks that they fit together.
pub(crate) fn resolve(
    ranges: &[Sourced<Ipv4Range>],
    iface: &InterfaceInfo,
    dns_servers: Vec<Ipv4Addr>,
    domain: Option<String>,
    hosts: &[Sourced<Reservation>],
) -> Result<Dhcp4Config, ServeError> {
    let mut placed: Vec<Dhcp4Range> = Vec::with_capacity(ranges.len());
    for range in ranges {
        let r = place(range, iface)?;
        let clash = placed
            .iter()
            .zip(ranges)
            .find(|(p, _)| !subnets_fit(&p.subnet, &r.subnet));
        if let Some((p, earlier)) = clash {
            return Err(ServeError::config(format!(
                "{}: its subnet {} overlaps {} of {} (two ranges' subnets must be the same or apart)",
                range.describe(),
                r.subnet,
                p.subnet,
                earlier.describe()
            )));
        }
        placed.push(r);
    }
    let server_addr = placed
        .iter()
        .find_map(|r| r.local)
        .or_else(|| iface.ipv4.first().map(|n| n.ip()))
        .ok_or_else(|| {
            ServeError::config(format!(
                "{}: {} has no IPv4 address to serve DHCP from",
                ranges[0].describe(),
                iface.name
            ))
        })?;
    let check = HostCheck {
        subnets: placed.iter().map(|r| r.subnet).collect(),
        domain: domain.clone(),
    };
    let reservations = hosts
        .iter()
        .map(|h| {
            check
                .check(&h.value)
                .map_err(|why| ServeError::config(format!("{}: {why}", h.describe())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Dhcp4Config {
        server_addr,
        ranges: placed,
        dns_servers,
        domain,
        mtu: None,
        options: Vec::new(),
        rapid_commit: false,
        ignore_client_id: false,
        reservations,
        authoritative: true,
        decline_hold: DECLINE_HOLD,
    })
}

/// `range` on the interface's subnet that holds its start, or, given a
/// netmask and on no subnet of the interface, on a subnet reached through
/// a relay agent (dnsmasq's `START,END,NETMASK`).
fn place(range: &Sourced<Ipv4Range>, iface: &InterfaceInfo) -> Result<Dhcp4Range, ServeError> {
    let what = range.describe();
    let r = &range.value;
    let bad = |m: String| ServeError::config(format!("{what}: {m}"));
    let on_link = iface.ipv4.iter().find(|n| n.contains(r.start)).copied();
    let subnet = match (on_link, r.netmask) {
        (Some(net), Some(mask)) => Ipv4Network::with_netmask(net.ip(), mask)
            .map_err(|e| bad(format!("netmask {mask}: {e}")))?,
        (Some(net), None) => net,
        (None, Some(mask)) => Ipv4Network::with_netmask(r.start, mask)
            .map_err(|e| bad(format!("netmask {mask}: {e}")))?,
        (None, None) => {
            return Err(bad(format!(
                "{} is not inside any IPv4 subnet of {} ({}); a subnet reached through a \
                 relay agent needs its netmask (START,END,NETMASK)",
                r.start,
                iface.name,
                list(&iface.ipv4)
            )));
        }
    };
    let subnet =
        Ipv4Network::new(subnet.network(), subnet.prefix()).map_err(|e| bad(e.to_string()))?;
    if !subnet.contains(r.end) {
        return Err(bad(format!("the end {} is outside {subnet}", r.end)));
    }
    if on_link.is_none()
        && let Some(net) = iface.ipv4.iter().find(|n| !subnets_fit(n, &subnet))
    {
        return Err(bad(format!(
            "{subnet} overlaps {net} of {} without holding {}",
            iface.name, r.start
        )));
    }
    for (which, a) in [("start", r.start), ("end", r.end)] {
        // A static range only names its subnet (`192.168.122.0,static`).
        if !r.static_only && (a == subnet.network() || a == subnet.broadcast()) {
            return Err(bad(format!(
                "the {which} {a} is the network or broadcast address of {subnet}"
            )));
        }
    }
    Ok(Dhcp4Range {
        subnet,
        start: r.start,
        end: r.end,
        static_only: r.static_only,
        lease_time: r.lease.unwrap_or(LeaseTime::DEFAULT),
        tags: r.tags.clone(),
        local: on_link.map(|n| n.ip()),
    })
}

/// Whether two subnets can both be served: the same, or apart.
fn subnets_fit(a: &Ipv4Network, b: &Ipv4Network) -> bool {
    let (a, b) = (
        Ipv4Network::new(a.network(), a.prefix()).unwrap_or(*a),
        Ipv4Network::new(b.network(), b.prefix()).unwrap_or(*b),
    );
    a == b || !(a.contains(b.network()) || b.contains(a.network()))
}

fn host_check(config: &Dhcp4Config) -> HostCheck {
    HostCheck {
        subnets: config.ranges.iter().map(|r| r.subnet).collect(),
        domain: config.domain.clone(),
    }
}

/// The ranges as a log line shows them: `START-END`, a relayed one with
/// `via relay`, a static one with `static`.
fn describe_ranges(ranges: &[Dhcp4Range]) -> String {
    ranges
        .iter()
        .map(|r| {
            let mut s = if r.static_only {
                format!("{} static", r.subnet)
            } else {
                format!("{}-{}", r.start, r.end)
            };
            if r.local.is_none() {
                s.push_str(" via relay");
            }
            s
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(nets: &[Ipv4Network]) -> String {
    if nets.is_empty() {
        return "it has no IPv4 address".into();
    }
    nets.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The lease table loaded and port 67 open.
pub struct Dhcp4Bound {
    shell: Dhcp4Shell,
    sources: Sources,
    /// Where the re-read host entries and options go to the shell.
    hosts_tx: tokio::sync::mpsc::Sender<Update>,
    stats: Arc<Dhcp4Stats>,
    view: LeaseView,
    /// Empties the `--dhcp-script` queue into the runner.
    scripts: Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl std::fmt::Debug for Dhcp4Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dhcp4Bound")
            .field("shell", &self.shell)
            .field("sources", &self.sources)
            .field("scripts", &self.scripts.is_some())
            .finish_non_exhaustive()
    }
}

impl Dhcp4Plan {
    /// Hands `--dhcp-script`'s runner to the service.
    pub fn with_script(mut self, runner: Option<ScriptRunner>) -> Dhcp4Plan {
        self.runner = runner;
        self
    }

    /// Opens the lease journal (before the daemon gives up root: the
    /// slots stay open for appending), replays it, and binds port 67 on
    /// the interface. Without a journal yet, the leases come from the
    /// dnsmasq-format lease file (bad lines are reported and kept in a
    /// copy).
    pub fn bind(
        self,
        ctx: &Context,
        writer: Arc<dyn FileWriter>,
    ) -> Result<Dhcp4Bound, ServeError> {
        tracing::debug!(config = ?self.config, "DHCPv4 configuration");
        let mut runner = self.runner;
        let path = self.lease_file;
        let shown = path.display().to_string();
        let (records, persist) = if self.leasefile_ro {
            (from_init(runner.as_mut())?, Persistence::without_files())
        } else {
            open_files(&path, writer)?
        };
        let ranges = describe_ranges(&self.config.ranges);
        let server_addr = self.config.server_addr;
        let server =
            Server::new(self.config, SystemTime::now(), records).with_lease_max(self.lease_max);
        let iface = &ctx.iface.name;
        let socket = Dhcp4Socket::bind(iface).map_err(ServeError::network(format!(
            "binding UDP port 67 on {iface} (is another DHCP server, such as dnsmasq, running?)"
        )))?;
        let stats = Arc::new(Dhcp4Stats::default());
        stats::set(&stats.pool_size, server.pool_size());
        // Every lease loaded is bound (offers are never persisted).
        let loaded = server.lease_count();
        stats::set(&stats.leases, loaded as u64);
        stats::set(&stats.free, server.free_addresses());
        info!(
            interface = %iface,
            range = %ranges,
            leases = loaded,
            lease_file = %shown,
            "DHCPv4 server listening"
        );
        let shell = Dhcp4Shell::new(
            server,
            socket,
            persist,
            ctx.names.clone(),
            iface.clone(),
            ctx.iface.index,
            stats.clone(),
        );
        let (hosts_tx, hosts_rx) = tokio::sync::mpsc::channel(1);
        let mut shell = shell.with_hosts(hosts_rx);
        match arp_socket(ctx, server_addr) {
            Ok(socket) => shell = shell.with_arp(ArpProber::spawn(socket)),
            Err(e) => {
                warn!(interface = %iface, "cannot probe with ARP ({e}): a name a live lease holds moves only when that lease ends");
            }
        }
        let mut scripts = None;
        if let Some(runner) = runner {
            let (mut queue, task) = ScriptQueue::start(
                runner,
                ScriptContext {
                    iface: iface.clone(),
                    domain: ctx.domain.clone(),
                    leasefile_ro: self.leasefile_ro,
                },
            );
            for r in shell.records() {
                queue.existing(&r);
            }
            shell = shell.with_script(queue);
            scripts = Some(Box::pin(task) as _);
        }
        let view = shell.leases();
        Ok(Dhcp4Bound {
            shell,
            sources: self.sources,
            hosts_tx,
            stats,
            view,
            scripts,
        })
    }
}

impl Dhcp4Bound {
    pub fn stats(&self) -> Arc<Dhcp4Stats> {
        self.stats.clone()
    }

    /// The bound leases as the shell publishes them.
    pub fn leases(&self) -> LeaseView {
        self.view.clone()
    }

    pub fn run(self, tasks: &mut Tasks, ctx: &Context) {
        let cancel = ctx.cancel.clone();
        let mut shell = self.shell;
        if let Some(task) = self.scripts {
            shell = shell.with_reload(ctx.reload.subscribe());
            tasks.spawn(async move {
                task.await;
                Ok(())
            });
        }
        if !self.sources.is_empty() {
            let follow = hosts::follow(
                self.sources,
                ctx.reload.subscribe(),
                self.hosts_tx,
                cancel.clone(),
            );
            tasks.spawn(async move {
                follow.await;
                Ok(())
            });
        }
        tasks.spawn(async move {
            shell.run(cancel).await;
            Ok(())
        });
    }
}

/// `--leasefile-ro`: the leases `SCRIPT init` prints (none without a
/// script). A bad line is reported and skipped; a failing script stops the
/// start, as in dnsmasq.
fn from_init(runner: Option<&mut ScriptRunner>) -> Result<Vec<LeaseRecord>, ServeError> {
    let Some(runner) = runner else {
        return Ok(Vec::new());
    };
    let shown = runner.script.display().to_string();
    let out = runner
        .init()
        .map_err(ServeError::file(format!("--leasefile-ro: {shown} init")))?;
    let (records, errors) = netd_proto::dhcp4::lease_file::parse(&String::from_utf8_lossy(&out));
    for e in &errors {
        warn!("{shown} init: {e}; line skipped");
    }
    info!(
        leases = records.len(),
        "--leasefile-ro: leases read from {shown} init"
    );
    Ok(records)
}

/// Opens the journal beside `path` and replays it (importing the
/// dnsmasq-format file on a first start).
fn open_files(
    path: &std::path::Path,
    writer: Arc<dyn FileWriter>,
) -> Result<(Vec<LeaseRecord>, Persistence), ServeError> {
    let shown = path.display().to_string();
    let store = LeaseStore::with_writer(path, writer.clone());
    store.prepare_dir().map_err(ServeError::file(format!(
        "creating the directory of the lease file {shown}"
    )))?;
    let paths = JournalPaths::beside(path);
    let slots = FileSlots::open(&paths).map_err(ServeError::file(format!(
        "opening the journal of the lease file {shown}"
    )))?;
    let snapshot = Arc::new(SnapshotOnDisk::new(paths.snapshot.clone(), writer));
    let opened = journal::open(slots, &*snapshot, || import(&store, path)).map_err(
        ServeError::file(format!("reading the journal of the lease file {shown}")),
    )?;
    for w in &opened.warnings {
        warn!("{shown}: {w}");
    }
    let persist = Persistence::new(opened.journal, snapshot, store);
    Ok((opened.records, persist))
}

/// The leases of the dnsmasq-format file, for a first start without a
/// journal. Unreadable lines are reported, and the file is copied aside
/// before it is rewritten without them.
fn import(store: &LeaseStore, path: &std::path::Path) -> std::io::Result<Vec<LeaseRecord>> {
    let shown = path.display();
    let loaded = store.load()?;
    for e in &loaded.errors {
        warn!("lease file {shown}: {e}; line skipped");
    }
    if !loaded.errors.is_empty() {
        let kept = keep_damaged_copy(path).map_err(std::io::Error::other)?;
        warn!(
            "lease file {shown}: the original, with its unreadable lines, is kept as {}",
            kept.display()
        );
    }
    if !loaded.records.is_empty() {
        info!(
            leases = loaded.records.len(),
            "lease file {shown}: leases imported into the journal"
        );
    }
    Ok(loaded.records)
}

/// Copies the lease file to `PATH.damaged-<unix time>` before it is
/// rewritten without its unreadable lines.
fn keep_damaged_copy(path: &std::path::Path) -> Result<PathBuf, ServeError> {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".damaged-{secs}"));
    let copy = PathBuf::from(name);
    std::fs::copy(path, &copy).map_err(ServeError::file(format!(
        "keeping a copy of the lease file as {}",
        copy.display()
    )))?;
    Ok(copy)
}

/// The socket that probes names' holders, asking as the server.
fn arp_socket(ctx: &Context, server_addr: Ipv4Addr) -> std::io::Result<ArpSocket> {
    let mac = ctx
        .iface
        .mac
        .ok_or_else(|| std::io::Error::other("the interface has no MAC address"))?;
    ArpSocket::open(&ctx.iface.name, ctx.iface.index, mac.0, server_addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Origin;

    fn nat0() -> InterfaceInfo {
        InterfaceInfo {
            name: "nat0".into(),
            index: 3,
            mac: None,
            mtu: Some(1500),
            ipv4: vec!["192.168.26.1/24".parse().unwrap()],
            ipv6: vec![],
        }
    }

    fn range(start: [u8; 4], end: [u8; 4], origin: Origin) -> Sourced<Ipv4Range> {
        let r = Ipv4Range {
            start: start.into(),
            end: end.into(),
            netmask: None,
            lease: None,
            tags: Vec::new(),
            static_only: false,
        };
        Sourced::new(r, "dhcp-range", "as written", origin)
    }

    fn with_mask(mut r: Sourced<Ipv4Range>, mask: [u8; 4]) -> Sourced<Ipv4Range> {
        r.value.netmask = Some(mask.into());
        r
    }

    #[test]
    fn the_range_lands_in_the_interface_subnet() {
        let r = range([192, 168, 26, 20], [192, 168, 26, 100], Origin::CommandLine);
        let c = resolve(&[r], &nat0(), vec![], None, &[]).unwrap();
        assert_eq!(c.server_addr, Ipv4Addr::new(192, 168, 26, 1));
        let r = &c.ranges[0];
        assert_eq!(r.subnet.to_string(), "192.168.26.0/24");
        assert_eq!(r.local, Some(c.server_addr));
        assert_eq!(r.lease_time, LeaseTime::DEFAULT);
    }

    #[test]
    fn a_range_outside_the_interface_names_the_file_line_and_the_addresses() {
        let origin = Origin::File {
            path: "/etc/dnsmasq.conf".into(),
            line: 7,
        };
        let r = range([10, 0, 0, 2], [10, 0, 0, 9], origin);
        let msg = resolve(&[r], &nat0(), vec![], None, &[])
            .unwrap_err()
            .to_string();
        for want in [
            "/etc/dnsmasq.conf:7",
            "--dhcp-range=as written",
            "192.168.26.1/24",
            "nat0",
            "START,END,NETMASK",
        ] {
            assert!(msg.contains(want), "{want} missing: {msg}");
        }
        let r = range([192, 168, 26, 0], [192, 168, 26, 9], Origin::CommandLine);
        assert!(resolve(&[r], &nat0(), vec![], None, &[]).is_err());
    }

    #[test]
    fn a_range_with_a_netmask_off_the_interface_is_served_through_relays() {
        let ranges = [
            range([192, 168, 26, 20], [192, 168, 26, 100], Origin::CommandLine),
            with_mask(
                range([10, 7, 0, 20], [10, 7, 0, 90], Origin::CommandLine),
                [255, 255, 255, 0],
            ),
        ];
        let c = resolve(&ranges, &nat0(), vec![], None, &[]).unwrap();
        assert_eq!(c.server_addr, Ipv4Addr::new(192, 168, 26, 1));
        assert_eq!(c.ranges[1].subnet.to_string(), "10.7.0.0/24");
        assert_eq!(c.ranges[1].local, None);
        // Only relayed ranges: the interface's address still identifies us.
        let c = resolve(&ranges[1..], &nat0(), vec![], None, &[]).unwrap();
        assert_eq!(c.server_addr, Ipv4Addr::new(192, 168, 26, 1));
    }

    #[test]
    fn ranges_whose_subnets_overlap_are_refused_naming_both() {
        let ranges = [
            with_mask(
                range([10, 7, 0, 20], [10, 7, 0, 90], Origin::CommandLine),
                [255, 255, 0, 0],
            ),
            with_mask(
                range([10, 7, 1, 20], [10, 7, 1, 90], Origin::CommandLine),
                [255, 255, 255, 0],
            ),
        ];
        let msg = resolve(&ranges, &nat0(), vec![], None, &[])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("10.7.1.0/24 overlaps 10.7.0.0/16"), "{msg}");
        // A relayed subnet that would swallow the interface's.
        let wide = with_mask(
            range([192, 168, 27, 20], [192, 168, 27, 90], Origin::CommandLine),
            [255, 255, 0, 0],
        );
        let msg = resolve(&[wide], &nat0(), vec![], None, &[])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("overlaps 192.168.26.1/24"), "{msg}");
        // Two ranges on one subnet are fine.
        let two = [
            range([192, 168, 26, 20], [192, 168, 26, 50], Origin::CommandLine),
            range([192, 168, 26, 60], [192, 168, 26, 90], Origin::CommandLine),
        ];
        assert_eq!(
            resolve(&two, &nat0(), vec![], None, &[])
                .unwrap()
                .ranges
                .len(),
            2
        );
    }

    #[test]
    fn a_second_subnet_on_the_interface_gets_its_own_server_address() {
        let mut iface = nat0();
        iface.ipv4.push("172.20.0.1/24".parse().unwrap());
        let ranges = [
            range([192, 168, 26, 20], [192, 168, 26, 100], Origin::CommandLine),
            range([172, 20, 0, 10], [172, 20, 0, 90], Origin::CommandLine),
        ];
        let c = resolve(&ranges, &iface, vec![], None, &[]).unwrap();
        assert_eq!(c.ranges[1].local, Some(Ipv4Addr::new(172, 20, 0, 1)));
        assert_eq!(c.ranges[1].subnet.to_string(), "172.20.0.0/24");
    }
}
