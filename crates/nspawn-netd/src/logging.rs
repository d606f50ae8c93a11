//! tracing setup: `RUST_LOG` when set, else `info`, raised to `debug` for
//! DHCP or DNS by dnsmasq's `--log-dhcp` and `--log-queries`.

use tracing_subscriber::EnvFilter;

use crate::cli::CommonArgs;

/// Installs the global subscriber, writing to stderr. Safe to call once.
pub fn init(common: &CommonArgs) {
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if common.log_dhcp {
        filter = filter
            .add_directive("netd_serve::dhcp4=debug".parse().expect("static directive"))
            .add_directive("netd_serve::dhcp6=debug".parse().expect("static directive"));
    }
    if common.log_queries {
        filter = filter.add_directive("netd_serve::dns=debug".parse().expect("static directive"));
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
