//! SIGUSR1's statistics: the same [`Status`](netd_serve::status::Status)
//! that `status` and the metrics endpoint show, logged as lines in
//! dnsmasq's manner ([`netd_serve::status::lines`]).

use std::time::{Instant, SystemTime};

use netd_serve::status::{Sources, lines};
use tracing::info;

/// Logs every line at info level.
pub(crate) fn log(sources: &Sources) {
    let status = sources.status(SystemTime::now(), Instant::now(), &[], None);
    for line in lines::lines(&status) {
        info!("{line}");
    }
}
