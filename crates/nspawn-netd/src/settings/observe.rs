//! The control socket's and the metrics endpoint's settings, from
//! `--control-dir`, `--control-group` and `--metrics-listen`.

use std::path::PathBuf;

use netd_serve::control::{ControlSettings, DEFAULT_DIR};
use netd_serve::metrics::MetricsSettings;

use super::Provenance;
use crate::cli::ObserveArgs;

/// The control socket is on unless `--control-dir` is empty.
pub(super) fn control(a: &ObserveArgs) -> ControlSettings {
    let dir = match &a.control_dir {
        None => Some(PathBuf::from(DEFAULT_DIR)),
        Some(d) if d.as_os_str().is_empty() => None,
        Some(d) => Some(d.clone()),
    };
    ControlSettings {
        dir,
        group: a.control_group.clone(),
    }
}

pub(super) fn metrics(a: &ObserveArgs, p: &Provenance<'_>) -> MetricsSettings {
    let listen: Vec<_> = a.metrics_listen.into_iter().collect();
    MetricsSettings {
        listen: p
            .sourced("metrics_listen", "metrics-listen", &listen)
            .into_iter()
            .next(),
    }
}
