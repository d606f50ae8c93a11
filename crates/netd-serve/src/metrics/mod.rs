//! The opt-in metrics endpoint: `--metrics-listen ADDR:PORT` serves
//! Prometheus's text format ([`encode`]) over a minimal GET-only HTTP
//! responder ([`http`]). A service like the others: [`plan`] (pure: the
//! address, and whether it is one of the served interface's), bind (the
//! TCP socket, before readiness), run (one task, a few connections at a
//! time, each within [`CONNECTION_TIMEOUT`]).
//!
//! There is no default address: nothing listens unless asked, and never on
//! the bridge unless `ADDR` is one of its addresses (then the containers
//! can read the metrics too, which the log says).

use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use crate::ServeError;
use crate::service::{Context, Tasks};
use crate::settings::Sourced;
use crate::status::Sources;

pub mod encode;
pub mod http;

/// Longest a scrape may take from accept to the last byte.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// Scrapes served at once; more wait.
const MAX_CONCURRENT: usize = 4;

/// What the options say about metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSettings {
    /// `--metrics-listen`; `None`: no endpoint.
    pub listen: Option<Sourced<SocketAddr>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsPlan {
    pub listen: Sourced<SocketAddr>,
    /// The address is one of the served interface's: the containers on
    /// the bridge can reach it.
    pub on_bridge: bool,
}

/// `None` unless `--metrics-listen` is given.
pub fn plan(settings: &MetricsSettings, ctx: &Context) -> Result<Option<MetricsPlan>, ServeError> {
    let Some(listen) = &settings.listen else {
        return Ok(None);
    };
    let ip = listen.value.ip();
    if ip.is_unspecified() {
        return Err(ServeError::config(format!(
            "{}: a wildcard address would serve the metrics on every interface, the bridge too; \
             give the address to listen on (127.0.0.1:9153, say)",
            listen.describe()
        )));
    }
    let on_bridge = ctx
        .iface
        .ipv4
        .iter()
        .any(|n| std::net::IpAddr::V4(n.ip()) == ip)
        || ctx
            .iface
            .ipv6
            .iter()
            .any(|n| std::net::IpAddr::V6(n.ip()) == ip);
    Ok(Some(MetricsPlan {
        listen: listen.clone(),
        on_bridge,
    }))
}

#[derive(Debug)]
pub struct MetricsBound {
    listener: TcpListener,
    registry: Arc<Registry>,
}

impl MetricsPlan {
    /// Binds the endpoint; `sources` are what it reports on.
    pub fn bind(self, sources: Sources, ctx: &Context) -> Result<MetricsBound, ServeError> {
        let addr = self.listen.value;
        let listener = StdListener::bind(addr)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .and_then(TcpListener::from_std)
            .map_err(ServeError::network(format!(
                "{}: binding the metrics endpoint",
                self.listen.describe()
            )))?;
        if self.on_bridge {
            warn!(interface = %ctx.iface.name, %addr, "metrics served on the bridge's own address: the containers can read them");
        }
        info!(%addr, "metrics endpoint listening on http://{addr}/metrics");
        Ok(MetricsBound {
            listener,
            registry: Arc::new(encode::registry(Arc::new(sources))),
        })
    }
}

impl MetricsBound {
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    pub fn run(self, tasks: &mut Tasks, ctx: &Context) {
        let cancel = ctx.cancel.clone();
        tasks.spawn(async move {
            let turns = Arc::new(Semaphore::new(MAX_CONCURRENT));
            loop {
                let accepted = tokio::select! {
                    _ = cancel.cancelled() => return Ok(()),
                    a = self.listener.accept() => a,
                };
                let stream = match accepted {
                    Ok((s, _)) => s,
                    Err(e) => {
                        debug!("metrics: accept: {e}");
                        continue;
                    }
                };
                let (registry, turns) = (self.registry.clone(), turns.clone());
                tokio::spawn(async move {
                    let Ok(_turn) = turns.acquire().await else {
                        return;
                    };
                    let served = tokio::time::timeout(
                        CONNECTION_TIMEOUT,
                        http::serve(stream, || encode::render(&registry), encode::CONTENT_TYPE),
                    )
                    .await;
                    if let Ok(Err(e)) = served {
                        debug!("metrics: {e}");
                    }
                });
            }
        });
    }
}

#[cfg(test)]
mod tests;
