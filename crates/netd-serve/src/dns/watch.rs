//! Keeps the upstream list in step with resolv.conf: inotify on the file
//! (in-place writes), on its directory (replacement by rename, a changed
//! symlink) and on the symlink target's directory; a `stat` poll besides,
//! every second when inotify is unavailable and every few seconds when it
//! is. Queries in flight keep the servers they started with.

use std::ffi::OsString;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use inotify::{Inotify, WatchMask};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::Shared;
use super::resolv_conf;

/// Time to let a writer finish before reading (truncate, then write).
const SETTLE: Duration = Duration::from_millis(30);
const POLL_WITH_INOTIFY: Duration = Duration::from_secs(5);
const POLL_WITHOUT_INOTIFY: Duration = Duration::from_secs(1);

/// Where the upstreams come from.
#[derive(Debug, Clone)]
pub struct ResolvSource {
    /// `--server=IP` upstreams, always first.
    pub fixed: Vec<SocketAddr>,
    /// The resolv.conf to follow; `None` with `--no-resolv`.
    pub file: Option<PathBuf>,
    /// Where we listen: a nameserver among these is refused, as forwarding
    /// to it would loop.
    pub own: Vec<SocketAddr>,
}

/// Re-reads the file and installs `fixed` + its nameservers. A file that
/// names no server (mid-rewrite, or emptied) keeps the current list.
pub fn reload_resolv(source: &ResolvSource, shared: &Shared) {
    read_upstreams(source, shared);
    // servers.bind names the new list at once; one lock at a time.
    let report = shared.upstreams().report();
    shared.resolver().set_upstream_report(report);
}

fn read_upstreams(source: &ResolvSource, shared: &Shared) {
    let Some(path) = &source.file else {
        shared.upstreams().replace(&source.fixed);
        return;
    };
    let from_file = match std::fs::read(path) {
        Ok(text) => resolv_conf::nameservers(&text),
        Err(e) => {
            warn!(path = %path.display(), error = %e, "cannot read resolv file; keeping the upstreams");
            return;
        }
    };
    let (own, from_file): (Vec<SocketAddr>, Vec<SocketAddr>) =
        from_file.into_iter().partition(|a| source.own.contains(a));
    for a in &own {
        crate::stats::add(&shared.stats.upstream_loops, 1);
        warn!(path = %path.display(), upstream = %a, "refusing a nameserver that is this daemon's own address: forwarding to it would loop");
    }
    if from_file.is_empty() {
        info!(path = %path.display(), "resolv file names no nameserver; keeping the upstreams");
        return;
    }
    let mut all = source.fixed.clone();
    all.extend(from_file.iter().filter(|a| !source.fixed.contains(a)));
    if shared.upstreams().replace(&all) {
        info!(path = %path.display(), upstreams = ?all, "upstream servers");
    }
}

/// File identity and state as `stat` sees it through symlinks.
fn stamp(path: &Path) -> Option<(u64, u64, i64, i64, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.dev(), m.ino(), m.mtime(), m.mtime_nsec(), m.size()))
}

fn add_watches(inotify: &mut inotify::Watches, path: &Path) -> io::Result<()> {
    let dir_mask = WatchMask::CREATE
        | WatchMask::MOVED_TO
        | WatchMask::MOVED_FROM
        | WatchMask::DELETE
        | WatchMask::CLOSE_WRITE
        | WatchMask::MODIFY
        | WatchMask::ATTRIB;
    let parent = path.parent().unwrap_or(Path::new("/"));
    inotify.add(parent, dir_mask)?;
    if let Ok(real) = std::fs::canonicalize(path)
        && let Some(real_parent) = real.parent()
        && real_parent != parent
    {
        let _ = inotify.add(real_parent, dir_mask);
    }
    let file_mask = WatchMask::MODIFY
        | WatchMask::CLOSE_WRITE
        | WatchMask::ATTRIB
        | WatchMask::DELETE_SELF
        | WatchMask::MOVE_SELF;
    // The file may be missing for now; the directory watch sees it appear.
    let _ = inotify.add(path, file_mask);
    Ok(())
}

/// Names worth a re-read when a directory reports them.
fn interesting(path: &Path) -> Vec<OsString> {
    let mut names: Vec<OsString> = path.file_name().map(OsString::from).into_iter().collect();
    if let Ok(real) = std::fs::canonicalize(path)
        && let Some(n) = real.file_name()
    {
        names.push(n.to_owned());
    }
    names
}

/// Follows `source.file` until `cancel`.
pub async fn watch_resolv_conf(
    source: ResolvSource,
    shared: Arc<Shared>,
    cancel: CancellationToken,
) -> io::Result<()> {
    let Some(path) = source.file.clone() else {
        return Ok(());
    };
    let inotify = Inotify::init().and_then(|i| {
        let mut watches = i.watches();
        add_watches(&mut watches, &path)?;
        i.into_event_stream([0u8; 4096])
    });
    let mut events = match inotify {
        Ok(s) => Some(s),
        Err(e) => {
            warn!(path = %path.display(), error = %e, "inotify unavailable; polling the resolv file");
            None
        }
    };
    let mut poll = tokio::time::interval(if events.is_some() {
        POLL_WITH_INOTIFY
    } else {
        POLL_WITHOUT_INOTIFY
    });
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = stamp(&path);
    loop {
        let changed = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = poll.tick() => stamp(&path) != last,
            ev = async {
                match events.as_mut() {
                    Some(s) => s.next().await,
                    None => std::future::pending().await,
                }
            } => match ev {
                Some(Ok(ev)) => match &ev.name {
                    None => true,
                    Some(name) => interesting(&path).iter().any(|n| n == name),
                },
                Some(Err(e)) => {
                    warn!(error = %e, "inotify read failed; polling the resolv file");
                    events = None;
                    poll = tokio::time::interval(POLL_WITHOUT_INOTIFY);
                    false
                }
                None => { events = None; false }
            },
        };
        if !changed {
            continue;
        }
        tokio::time::sleep(SETTLE).await;
        if let Some(s) = events.as_mut() {
            // A replaced file is a new inode: watch it too.
            let mut watches = s.watches();
            let _ = add_watches(&mut watches, &path);
        }
        last = stamp(&path);
        debug!(path = %path.display(), "resolv file changed");
        reload_resolv(&source, &shared);
    }
}
