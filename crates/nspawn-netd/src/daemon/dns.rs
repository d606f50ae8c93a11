//! Starts the DNS forwarder: builds its configuration from the options,
//! reads hosts files and the resolv file, binds UDP and TCP on each of
//! [`Daemon::dns_addresses`] (never a wildcard; `IP_FREEBIND` so an address
//! that is not up yet is fine), and spawns the service, the resolv file
//! watcher and the SIGHUP handler.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use ipnetwork::IpNetwork;
use netd_proto::dns::config::{self, ServerSpec};
use netd_proto::dns::{DnsConfig, Hosts, Resolver, Upstreams};
use netd_serve::dns::{self as serve, ResolvSource, Shared, TcpLimits};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, UdpSocket};
use tracing::{info, warn};

use super::Daemon;

const SYSTEM_HOSTS: &str = "/etc/hosts";
/// The resolv file read unless `--resolv-file` or `--no-resolv` says otherwise.
const DEFAULT_RESOLV_FILE: &str = "/etc/resolv.conf";
/// Receive buffer asked for each UDP socket, to ride out query bursts.
const UDP_RECV_BUFFER: usize = 1 << 20;

pub(super) async fn start(daemon: &mut Daemon) -> anyhow::Result<()> {
    let addrs = daemon.dns_addresses();
    if addrs.is_empty() {
        info!("DNS is off (--port=0)");
        return Ok(());
    }
    let args = daemon.args.dns.clone();
    let specs = args
        .server
        .iter()
        .map(|s| config::parse_server(s))
        .collect::<Result<Vec<_>, _>>()?;
    let addresses = args
        .address
        .iter()
        .map(|s| config::parse_address(s))
        .collect::<Result<Vec<_>, _>>()?;
    let mut client_nets: Vec<IpNetwork> = daemon
        .iface
        .ipv4
        .iter()
        .map(|n| IpNetwork::V4(*n))
        .collect();
    client_nets.extend(daemon.iface.ipv6.iter().map(|n| IpNetwork::V6(*n)));
    let dns_config = DnsConfig {
        client_nets,
        domain: daemon
            .args
            .common
            .domain
            .as_ref()
            .map(|d| d.trim_end_matches('.').to_ascii_lowercase()),
        domain_needed: true,
        bogus_priv: true,
        cache_size: args.cache_size,
        negcache: !args.no_negcache,
        addresses,
        routes: config::routes_from(&specs),
    };
    let hosts_files = hosts_files(args.no_hosts, &args.addn_hosts);
    let resolver = Resolver::new(dns_config, daemon.names.clone(), read_hosts(&hosts_files));
    let source = ResolvSource {
        fixed: specs
            .iter()
            .filter_map(|s| match s {
                ServerSpec::Upstream(a) => Some(*a),
                ServerSpec::Domains(..) => None,
            })
            .collect(),
        file: (!args.no_resolv).then(|| {
            args.resolv_file
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_RESOLV_FILE))
        }),
    };
    if source.file.is_none() && source.fixed.is_empty() {
        bail!("--no-resolv without any --server=IP: there is no upstream to forward to");
    }
    let shared = Arc::new(Shared::new(
        resolver,
        Upstreams::new(&source.fixed, args.strict_order),
    ));
    serve::reload_resolv(&source, &shared);
    if shared.upstreams().is_empty() {
        warn!(
            "no upstream DNS server yet: forwarded queries get SERVFAIL until the resolv file names one"
        );
    }

    for addr in &addrs {
        let sa = SocketAddr::new(*addr, args.port);
        let udp = Arc::new(bind_udp(sa).with_context(|| format!("binding DNS UDP {sa}"))?);
        let tcp = bind_tcp(sa).with_context(|| format!("binding DNS TCP {sa}"))?;
        let (s, c) = (shared.clone(), daemon.cancel.clone());
        daemon.tasks.spawn(async move {
            serve::serve_udp(udp, s, c)
                .await
                .with_context(|| format!("DNS UDP on {sa}"))
        });
        let (s, c) = (shared.clone(), daemon.cancel.clone());
        daemon.tasks.spawn(async move {
            serve::serve_tcp(tcp, s, TcpLimits::default(), c)
                .await
                .with_context(|| format!("DNS TCP on {sa}"))
        });
    }
    if source.file.is_some() {
        let (src, s, c) = (source.clone(), shared.clone(), daemon.cancel.clone());
        daemon.tasks.spawn(async move {
            serve::watch_resolv_conf(src, s, c)
                .await
                .context("watching the resolv file")
        });
    }
    let mut reload = daemon.reload.subscribe();
    let cancel = daemon.cancel.clone();
    daemon.tasks.spawn(async move {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                r = reload.recv() => {
                    if let Err(tokio::sync::broadcast::error::RecvError::Closed) = r {
                        return Ok(());
                    }
                    shared.resolver().reload(read_hosts(&hosts_files));
                    serve::reload_resolv(&source, &shared);
                    info!("DNS: cache cleared, hosts files and resolv file re-read");
                }
            }
        }
    });
    info!(addresses = ?addrs, port = args.port, "DNS listening");
    Ok(())
}

fn hosts_files(no_hosts: bool, addn: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if !no_hosts {
        files.push(PathBuf::from(SYSTEM_HOSTS));
    }
    files.extend(addn.iter().cloned());
    files
}

/// Reads every hosts file; unreadable files and bad lines are logged and
/// skipped, so a reload never leaves the forwarder without the good ones.
fn read_hosts(files: &[PathBuf]) -> Hosts {
    let mut hosts = Hosts::default();
    for f in files {
        match std::fs::read_to_string(f) {
            Ok(text) => {
                for e in hosts.add_file(&f.display().to_string(), &text) {
                    warn!("hosts file: {e}");
                }
            }
            Err(e) => warn!(file = %f.display(), error = %e, "cannot read hosts file"),
        }
    }
    hosts
}

fn socket_for(addr: SocketAddr, ty: Type, proto: Protocol) -> anyhow::Result<Socket> {
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

fn bind_udp(addr: SocketAddr) -> anyhow::Result<UdpSocket> {
    let socket = socket_for(addr, Type::DGRAM, Protocol::UDP)?;
    let _ = socket.set_recv_buffer_size(UDP_RECV_BUFFER);
    socket.bind(&addr.into())?;
    Ok(UdpSocket::from_std(socket.into())?)
}

fn bind_tcp(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let socket = socket_for(addr, Type::STREAM, Protocol::TCP)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(128)?;
    Ok(TcpListener::from_std(socket.into())?)
}
