//! `nspawn-netd ra`: only the router advertisement sender, for hosts where
//! something else serves DHCP and DNS.

use std::net::Ipv6Addr;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use ipnetwork::Ipv6Network;
use netd_proto::ra::{AdvertPrefix, Lifetime, RaConfig, RaTiming};
use netd_serve::iface::interface_info;
use netd_serve::ra::RaSender;
use tokio_util::sync::CancellationToken;

use crate::signals::Signals;
use tracing::info;

use crate::settings::dhcp_range::parse_lease_time;

#[derive(Debug, Clone, Args)]
pub struct RaArgs {
    /// A prefix to advertise for SLAAC (repeatable), e.g. fd23::/64.
    #[arg(long, value_name = "PREFIX/LEN", required = true)]
    pub prefix: Vec<Ipv6Network>,
    /// The interface to advertise on.
    #[arg(long, short = 'i', default_value = netd_bridge::defaults::BRIDGE)]
    pub interface: String,
    /// A DNS server to advertise (RDNSS, repeatable).
    #[arg(long, value_name = "ADDR")]
    pub rdnss: Vec<Ipv6Addr>,
    /// A search domain to advertise (DNSSL, repeatable).
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Vec<String>,
    /// Set the O flag: DNS information is available by DHCPv6.
    #[arg(long)]
    pub other_config: bool,
    /// MaxRtrAdvInterval in seconds (4-1800).
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(4..=1800))]
    pub interval: u64,
    /// Router lifetime in seconds (0-9000; 0: not a default router).
    #[arg(long, default_value_t = 1800)]
    pub router_lifetime: u16,
    /// Valid and preferred lifetime of the prefixes (12h, 1d, infinite).
    #[arg(long, default_value = "infinite")]
    pub prefix_lifetime: String,
}

pub fn run(args: RaArgs) -> anyhow::Result<()> {
    crate::logging::init_stderr();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(serve(args))
}

/// Checks the arguments against the interface and builds the config.
pub fn config(args: &RaArgs) -> anyhow::Result<RaConfig> {
    if args.router_lifetime > 9000 {
        bail!("--router-lifetime={} is above 9000 s", args.router_lifetime);
    }
    let lifetime = match parse_lease_time(&args.prefix_lifetime)
        .map_err(|e| anyhow::anyhow!("--prefix-lifetime: {e}"))?
    {
        netd_proto::dhcp4::LeaseTime::Infinite => Lifetime::INFINITY,
        netd_proto::dhcp4::LeaseTime::Finite(d) => Lifetime::from_duration(d),
    };
    let prefixes = args
        .prefix
        .iter()
        .map(|p| {
            let network = Ipv6Network::new(p.network(), p.prefix())?;
            Ok(AdvertPrefix {
                network,
                autonomous: p.prefix() == 64,
                valid_lifetime: lifetime,
                preferred_lifetime: lifetime,
            })
        })
        .collect::<Result<Vec<_>, ipnetwork::IpNetworkError>>()?;
    let mut config = RaConfig::new(prefixes);
    config.timing = RaTiming::from_max(Duration::from_secs(args.interval));
    config.router_lifetime = args.router_lifetime;
    config.other_config = args.other_config;
    config.dns_servers = args.rdnss.clone();
    for d in &args.domain {
        if !netd_proto::ra::option::valid_search_domain(d) {
            bail!("--domain={d} is not a valid DNS name");
        }
        config
            .search_domains
            .push(d.trim_end_matches('.').to_owned());
    }
    Ok(config)
}

async fn serve(args: RaArgs) -> anyhow::Result<()> {
    let config = config(&args)?;
    interface_info(&args.interface)
        .await
        .with_context(|| format!("--interface={}", args.interface))?;
    let cancel = CancellationToken::new();
    let mut signals = Signals::install()?;
    let sender = RaSender {
        ifname: args.interface.clone(),
        config,
        on_advertise: None,
        stats: Default::default(),
    };
    let task = tokio::spawn(sender.run(cancel.clone()));
    info!(interface = %args.interface, "nspawn-netd ready");
    let stop = signals.stop().await;
    info!("{stop:?}: stopping");
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(3), task)
        .await
        .context("the RA sender did not stop")?
        .context("the RA sender failed")?;
    Ok(())
}
