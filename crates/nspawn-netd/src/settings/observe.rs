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
        explicit: a.control_dir.is_some(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_control_socket_defaults_on_and_an_empty_dir_turns_it_off() {
        let default = control(&ObserveArgs::default());
        assert_eq!(
            default.dir.as_deref(),
            Some(std::path::Path::new(DEFAULT_DIR))
        );
        assert!(
            !default.explicit,
            "a default dir may be skipped with a warning"
        );
        let given = control(&ObserveArgs {
            control_dir: Some("/srv/ctl".into()),
            control_group: Some("adm".into()),
            ..ObserveArgs::default()
        });
        assert_eq!(given.dir.as_deref(), Some(std::path::Path::new("/srv/ctl")));
        assert!(given.explicit);
        assert_eq!(given.group.as_deref(), Some("adm"));
        let off = control(&ObserveArgs {
            control_dir: Some(PathBuf::new()),
            ..ObserveArgs::default()
        });
        assert_eq!(off.dir, None);
    }
}
