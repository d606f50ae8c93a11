//! The DNS service in the shape every service has: [`plan`] (pure: the
//! resolver's configuration and the addresses to listen on), [`DnsPlan::bind`]
//! (every UDP and TCP socket, hosts files and the resolv file read),
//! [`DnsBound::run`] (the UDP and TCP tasks per address, the resolv file
//! watcher, and SIGHUP's reload).
//!
//! Sockets are bound to the interface's addresses and `--listen-address`,
//! never a wildcard; `IP_FREEBIND`, so an address that is not up yet is fine.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use ipnetwork::IpNetwork;
use netd_proto::dns::CacheLimits;
use netd_proto::dns::TtlLimits;
use netd_proto::dns::config::{AddressRule, RouteTarget, ServerSpec, routes_from};
use netd_proto::dns::{DnsConfig, Hosts, RecordSpec, Resolver, Upstreams};
use netd_proto::names::LocalNames;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, UdpSocket};
use tracing::{info, warn};

use super::local_data::{InterfaceName, interface_records};
use super::{DEFAULT_FORWARD_MAX, ResolvSource, Shared, TcpLimits};
use crate::ServeError;
use crate::service::{Context, Tasks};
use crate::settings::Sourced;
use crate::stats::DnsStats;

/// The hosts file read unless `--no-hosts`.
pub const SYSTEM_HOSTS: &str = "/etc/hosts";
/// The resolv file read unless `--resolv-file` or `--no-resolv` says
/// otherwise.
pub const DEFAULT_RESOLV_FILE: &str = "/etc/resolv.conf";
/// Receive buffer asked for each UDP socket, to ride out query bursts.
const UDP_RECV_BUFFER: usize = 1 << 20;

/// What the options say about DNS.
#[derive(Debug, Clone)]
pub struct DnsSettings {
    /// 0 turns DNS off.
    pub port: u16,
    pub servers: Vec<Sourced<ServerSpec>>,
    pub addresses: Vec<Sourced<AddressRule>>,
    /// `None` with `--no-resolv`.
    pub resolv_file: Option<PathBuf>,
    pub strict_order: bool,
    pub cache_size: usize,
    pub negcache: bool,
    /// `--min-cache-ttl` and `--max-cache-ttl`.
    pub ttls: TtlLimits,
    /// `--dns-forward-max`: upstream exchanges in flight at most.
    pub forward_max: usize,
    /// `/etc/hosts` unless `--no-hosts`, then `--addn-hosts`.
    pub hosts_files: Vec<PathBuf>,
    /// `--expand-hosts`: hosts files' single-label names also answer
    /// with `--domain` appended.
    pub expand_hosts: bool,
    /// `--host-record`, `--cname`, `--txt-record`, `--srv-host`,
    /// `--ptr-record`, `--mx-host`.
    pub records: Vec<Sourced<RecordSpec>>,
    /// `--interface-name`.
    pub interface_names: Vec<Sourced<InterfaceName>>,
    /// Addresses of the `--interface-name` interfaces, by interface, read
    /// by [`super::read_interfaces`] before [`plan`].
    pub interface_addrs: HashMap<String, Vec<IpAddr>>,
    /// `--local-ttl`.
    pub local_ttl: u32,
    /// `--no-ident`.
    pub no_ident: bool,
    /// The host's name, for `hostname.bind`.
    pub hostname: Option<String>,
}

impl Default for DnsSettings {
    fn default() -> Self {
        DnsSettings {
            port: 53,
            servers: Vec::new(),
            addresses: Vec::new(),
            resolv_file: Some(PathBuf::from(DEFAULT_RESOLV_FILE)),
            strict_order: false,
            cache_size: 10_000,
            negcache: true,
            ttls: TtlLimits::default(),
            forward_max: DEFAULT_FORWARD_MAX,
            hosts_files: vec![PathBuf::from(SYSTEM_HOSTS)],
            expand_hosts: false,
            records: Vec::new(),
            interface_names: Vec::new(),
            interface_addrs: HashMap::new(),
            local_ttl: 0,
            no_ident: false,
            hostname: None,
        }
    }
}

/// The forwarder's configuration and where it listens.
#[derive(Debug, Clone)]
pub struct DnsPlan {
    pub config: DnsConfig,
    pub listen: Vec<SocketAddr>,
    pub source: ResolvSource,
    pub strict_order: bool,
    pub hosts: HostsFiles,
    pub forward_max: usize,
    pub tcp: TcpLimits,
}

/// The hosts files and how their names are read.
#[derive(Debug, Clone, Default)]
pub struct HostsFiles {
    pub files: Vec<PathBuf>,
    /// `--expand-hosts` with `--domain`: single-label names also answer
    /// as `NAME.DOMAIN`.
    pub expand: Option<String>,
}

/// Descriptors kept free of DNS for everything else: the lease file and
/// its temporary file, the neighbour and route netlink sockets, logs.
pub const RESERVED_DESCRIPTORS: u64 = 64;

impl DnsPlan {
    /// The most descriptors DNS can hold at once: a UDP and a TCP socket
    /// per listening address; the upstream pool's sockets, and those
    /// retired but still waited on (at most one per exchange); a TCP
    /// connection per client slot; an upstream TCP connection per
    /// exchange and per client connection; the resolv file's watch.
    pub fn descriptors(&self) -> u64 {
        let listen = 2 * self.listen.len();
        let pool = 2 * super::pool::SLOTS + self.forward_max;
        let tcp = self.tcp.max_connections;
        let upstream_tcp = self.forward_max + self.tcp.max_connections;
        (listen + pool + tcp + upstream_tcp + 1) as u64
    }
}

/// `None` when DNS is off (`--port=0`).
pub fn plan(settings: &DnsSettings, ctx: &Context) -> Result<Option<DnsPlan>, ServeError> {
    if settings.port == 0 || ctx.dns_addresses.is_empty() {
        return Ok(None);
    }
    let specs: Vec<ServerSpec> = settings.servers.iter().map(|s| s.value.clone()).collect();
    let mut client_nets: Vec<IpNetwork> =
        ctx.iface.ipv4.iter().map(|n| IpNetwork::V4(*n)).collect();
    client_nets.extend(ctx.iface.ipv6.iter().map(|n| IpNetwork::V6(*n)));
    let config = DnsConfig {
        client_nets,
        domain: ctx
            .domain
            .as_ref()
            .map(|d| d.trim_end_matches('.').to_ascii_lowercase()),
        domain_needed: true,
        bogus_priv: true,
        cache: CacheLimits::for_entries(settings.cache_size, settings.negcache),
        ttls: settings.ttls,
        addresses: settings.addresses.iter().map(|a| a.value.clone()).collect(),
        routes: routes_from(&specs),
        records: settings
            .records
            .iter()
            .map(|r| r.value.clone())
            .chain(interface_records(
                &settings.interface_names,
                &settings.interface_addrs,
            ))
            .collect(),
        local_ttl: settings.local_ttl,
        no_ident: settings.no_ident,
        hostname: settings.hostname.clone(),
    };
    let listen: Vec<SocketAddr> = ctx
        .dns_addresses
        .iter()
        .map(|a| SocketAddr::new(*a, settings.port))
        .collect();
    // An upstream we listen on ourselves would forward every miss to us
    // again, round and round.
    for s in &settings.servers {
        let named: Vec<SocketAddr> = match &s.value {
            ServerSpec::Upstream(a) => vec![*a],
            ServerSpec::Domains(_, RouteTarget::Servers(list)) => list.clone(),
            ServerSpec::Domains(..) => Vec::new(),
        };
        if let Some(a) = named.iter().find(|a| listen.contains(a)) {
            return Err(ServeError::config(format!(
                "{}: {a} is this daemon's own DNS address: forwarding to it would loop",
                s.describe()
            )));
        }
    }
    let source = ResolvSource {
        fixed: specs
            .iter()
            .filter_map(|s| match s {
                ServerSpec::Upstream(a) => Some(*a),
                ServerSpec::Domains(..) => None,
            })
            .collect(),
        file: settings.resolv_file.clone(),
        own: listen.clone(),
    };
    if source.file.is_none() && source.fixed.is_empty() {
        return Err(ServeError::config(
            "--no-resolv without any --server=IP: there is no upstream to forward to",
        ));
    }
    if settings.forward_max == 0 {
        return Err(ServeError::config(
            "--dns-forward-max=0: no query could ever be forwarded",
        ));
    }
    Ok(Some(DnsPlan {
        config,
        listen,
        source,
        strict_order: settings.strict_order,
        hosts: HostsFiles {
            files: settings.hosts_files.clone(),
            expand: ctx
                .domain
                .as_ref()
                .filter(|_| settings.expand_hosts)
                .map(|d| d.trim_end_matches('.').to_ascii_lowercase()),
        },
        forward_max: settings.forward_max,
        tcp: TcpLimits::default(),
    }))
}

/// Every socket bound and the resolver built.
#[derive(Debug)]
pub struct DnsBound {
    shared: Arc<Shared>,
    sockets: Vec<(SocketAddr, Arc<UdpSocket>, TcpListener)>,
    source: ResolvSource,
    tcp: TcpLimits,
    hosts: HostsFiles,
    /// The names local records answer for, which no DHCP client gets.
    record_names: Vec<String>,
}

impl DnsPlan {
    pub fn bind(self, ctx: &Context) -> Result<DnsBound, ServeError> {
        let need = self.descriptors() + RESERVED_DESCRIPTORS;
        let limit = crate::process::open_files_limit()
            .map_err(ServeError::network("reading RLIMIT_NOFILE"))?;
        if limit < need {
            return Err(ServeError::config(format!(
                "--dns-forward-max={}: DNS may need {} descriptors and {RESERVED_DESCRIPTORS} stay \
                 for leases and the rest, but the open files limit is {limit}; \
                 lower --dns-forward-max or raise the limit (LimitNOFILE=)",
                self.forward_max,
                self.descriptors()
            )));
        }
        let record_names: Vec<String> = self
            .config
            .records
            .iter()
            .flat_map(RecordSpec::owner_names)
            .map(str::to_owned)
            .collect();
        let hosts = read_hosts(&self.hosts);
        protect(&ctx.names, &hosts, &record_names);
        let resolver = Resolver::new(self.config, ctx.names.clone(), hosts);
        let shared = Arc::new(Shared::new(
            resolver,
            Upstreams::new(&self.source.fixed, self.strict_order),
            self.forward_max,
        ));
        super::reload_resolv(&self.source, &shared);
        if shared.upstreams().is_empty() {
            warn!(
                "no upstream DNS server yet: forwarded queries get SERVFAIL until the resolv file names one"
            );
        }
        let mut sockets = Vec::with_capacity(self.listen.len());
        for sa in &self.listen {
            let udp =
                bind_udp(*sa).map_err(ServeError::network(format!("binding DNS UDP {sa}")))?;
            let tcp =
                bind_tcp(*sa).map_err(ServeError::network(format!("binding DNS TCP {sa}")))?;
            sockets.push((*sa, Arc::new(udp), tcp));
        }
        info!(interface = %ctx.iface.name, addresses = ?self.listen, "DNS listening");
        Ok(DnsBound {
            shared,
            sockets,
            source: self.source,
            tcp: self.tcp,
            hosts: self.hosts,
            record_names,
        })
    }
}

impl DnsBound {
    pub fn stats(&self) -> Arc<DnsStats> {
        self.shared.stats.clone()
    }

    /// The resolver, its cache and the upstreams, for the statistics.
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    pub fn run(self, tasks: &mut Tasks, ctx: &Context) {
        let DnsBound {
            shared,
            sockets,
            source,
            tcp: tcp_limits,
            hosts,
            record_names,
        } = self;
        for (sa, udp, tcp) in sockets {
            let (s, c) = (shared.clone(), ctx.cancel.clone());
            tasks.spawn(async move {
                super::serve_udp(udp, s, c)
                    .await
                    .map_err(|e| ServeError::Fatal(format!("DNS UDP on {sa}: {e}")))
            });
            let (s, c) = (shared.clone(), ctx.cancel.clone());
            tasks.spawn(async move {
                super::serve_tcp(tcp, s, tcp_limits, c)
                    .await
                    .map_err(|e| ServeError::Fatal(format!("DNS TCP on {sa}: {e}")))
            });
        }
        if source.file.is_some() {
            let (src, s, c) = (source.clone(), shared.clone(), ctx.cancel.clone());
            tasks.spawn(async move {
                super::watch_resolv_conf(src, s, c)
                    .await
                    .map_err(|e| ServeError::Fatal(format!("watching the resolv file: {e}")))
            });
        }
        let mut reload = ctx.reload.subscribe();
        let cancel = ctx.cancel.clone();
        let names = ctx.names.clone();
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return Ok(()),
                    r = reload.recv() => {
                        if let Err(tokio::sync::broadcast::error::RecvError::Closed) = r {
                            return Ok(());
                        }
                        let fresh = read_hosts(&hosts);
                        protect(&names, &fresh, &record_names);
                        shared.resolver().reload(fresh);
                        super::reload_resolv(&source, &shared);
                        info!("DNS: cache cleared, hosts files and resolv file re-read");
                    }
                }
            }
        });
    }
}

/// Names of hosts files and local records are never given to a DHCP
/// client.
fn protect(names: &LocalNames, hosts: &Hosts, record_names: &[String]) {
    let mut all: Vec<String> = hosts.names().map(str::to_owned).collect();
    all.extend(record_names.iter().cloned());
    names.set_protected(all);
}

/// Reads every hosts file; unreadable files and bad lines are logged and
/// skipped, so a reload never leaves the forwarder without the good ones.
fn read_hosts(source: &HostsFiles) -> Hosts {
    let mut hosts = Hosts::default();
    for f in &source.files {
        match std::fs::read_to_string(f) {
            Ok(text) => {
                for e in hosts.add_file(&f.display().to_string(), &text) {
                    warn!("hosts file: {e}");
                }
            }
            Err(e) => warn!(file = %f.display(), error = %e, "cannot read hosts file"),
        }
    }
    if let Some(domain) = &source.expand {
        hosts.expand_single_labels(domain);
    }
    hosts
}

fn socket_for(addr: SocketAddr, ty: Type, proto: Protocol) -> std::io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), ty, Some(proto))?;
    match addr.ip() {
        IpAddr::V4(_) => socket.set_freebind_v4(true)?,
        IpAddr::V6(_) => {
            socket.set_only_v6(true)?;
            socket.set_freebind_v6(true)?;
        }
    }
    socket.set_nonblocking(true)?;
    Ok(socket)
}

fn bind_udp(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = socket_for(addr, Type::DGRAM, Protocol::UDP)?;
    let _ = socket.set_recv_buffer_size(UDP_RECV_BUFFER);
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

fn bind_tcp(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = socket_for(addr, Type::STREAM, Protocol::TCP)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(128)?;
    TcpListener::from_std(socket.into())
}
