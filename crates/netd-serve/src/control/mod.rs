//! The control socket: a local stream socket through which `nspawn-netd
//! status` and `nspawn-netd leases` read the running daemon's
//! [`Status`](crate::status::Status). A service like the others:
//!
//! - [`plan`] (pure): `DIR/IFACE.sock`, `DIR` from `--control-dir`
//!   (default [`DEFAULT_DIR`]); one daemon per interface, so the interface
//!   names the socket.
//! - [`ControlPlan::bind`], while the daemon is still root: makes `DIR`
//!   (0755), takes over a stale socket a dead daemon left (but never one a
//!   live daemon answers on), binds, sets the mode (0600, or 0660 with the
//!   group of `--control-group`) before `listen`, so no one connects
//!   before the mode is right.
//! - [`ControlBound::run`]: answers each connection on its own task, a few
//!   at a time, each within [`ANSWER_TIMEOUT`].
//!
//! The protocol ([`protocol`]): the client writes one request line,
//! `status` or `leases`; the daemon answers one JSON document and closes.

use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use socket2::{Domain, SockAddr, Socket, Type};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use crate::ServeError;
use crate::service::{Context, Tasks};
use crate::status::Sources;

pub mod client;
pub mod protocol;

use protocol::Request;

/// Where control sockets live unless `--control-dir` says otherwise.
pub const DEFAULT_DIR: &str = "/run/nspawn-netd";
/// Longest a connection may take from accept to its answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);
/// Connections answered at once; more wait for a turn.
const MAX_CONCURRENT: usize = 8;

/// What the options say about the control socket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControlSettings {
    /// `None`: no control socket.
    pub dir: Option<PathBuf>,
    /// `dir` was given (`--control-dir`), not the default: failing to make
    /// the socket there is an error rather than a warning.
    pub explicit: bool,
    /// A group whose members may use it too (mode 0660).
    pub group: Option<String>,
}

/// The socket of `interface`'s daemon in `dir`.
pub fn socket_path(dir: &Path, interface: &str) -> PathBuf {
    dir.join(format!("{interface}.sock"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlPlan {
    pub path: PathBuf,
    pub group: Option<String>,
    pub explicit: bool,
}

/// `None` when the control socket is off.
pub fn plan(settings: &ControlSettings, ctx: &Context) -> Result<Option<ControlPlan>, ServeError> {
    let Some(dir) = &settings.dir else {
        return Ok(None);
    };
    if !dir.is_absolute() {
        return Err(ServeError::config(format!(
            "--control-dir={}: not an absolute path",
            dir.display()
        )));
    }
    Ok(Some(ControlPlan {
        path: socket_path(dir, &ctx.iface.name),
        group: settings.group.clone(),
        explicit: settings.explicit,
    }))
}

/// The listening socket and what it reports on.
#[derive(Debug)]
pub struct ControlBound {
    listener: UnixListener,
    path: PathBuf,
    sources: Arc<Sources>,
    ifindex: u32,
}

impl ControlPlan {
    /// [`ControlPlan::bind`], except that a default directory the daemon
    /// may not write (it was not started as root) costs only the socket,
    /// with a warning; another daemon serving the interface is still an
    /// error.
    pub fn bind_or_warn(
        self,
        sources: Sources,
        ctx: &Context,
    ) -> Result<Option<ControlBound>, ServeError> {
        let explicit = self.explicit;
        match self.bind(sources, ctx) {
            Ok(b) => Ok(Some(b)),
            Err(ServeError::File { what, source }) if !explicit => {
                warn!(
                    interface = %ctx.iface.name,
                    "no control socket ({what}: {source}); `nspawn-netd status` cannot reach this daemon: give --control-dir"
                );
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Binds the socket. Run as root, before the daemon drops privileges,
    /// after the services it reports on are bound.
    pub fn bind(self, sources: Sources, ctx: &Context) -> Result<ControlBound, ServeError> {
        let path = &self.path;
        let shown = path.display().to_string();
        let dir = path.parent().unwrap_or(Path::new("/"));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(dir)
            .map_err(ServeError::file(format!(
                "making the control directory {} (--control-dir)",
                dir.display()
            )))?;
        take_over_stale(path, &ctx.iface.name)?;
        let gid = match &self.group {
            None => None,
            Some(g) => Some(
                crate::process::privileges::group_id(g)
                    .map_err(|e| ServeError::config(format!("--control-group={g}: {e}")))?,
            ),
        };
        let listener = listen(path, gid).map_err(ServeError::file(format!(
            "binding the control socket {shown}"
        )))?;
        info!(interface = %ctx.iface.name, path = %shown, "control socket listening");
        Ok(ControlBound {
            listener,
            path: self.path,
            sources: Arc::new(sources),
            ifindex: ctx.iface.index,
        })
    }
}

/// Removes a socket left by a daemon that is gone; refuses when one
/// answers, or when the path is something else than a socket.
fn take_over_stale(path: &Path, interface: &str) -> Result<(), ServeError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(ServeError::file(format!("looking at {}", path.display()))(
                e,
            ));
        }
    };
    let shown = path.display();
    if !meta.file_type().is_socket() {
        return Err(ServeError::config(format!(
            "{shown} exists and is not a socket; remove it or give another --control-dir"
        )));
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(ServeError::config(format!(
            "another nspawn-netd already serves {interface}: its control socket {shown} answers"
        )));
    }
    std::fs::remove_file(path).map_err(ServeError::file(format!("removing the stale {shown}")))
}

/// bind, chmod (and chown), then listen: the mode is right before anyone
/// can connect.
fn listen(path: &Path, gid: Option<u32>) -> io::Result<UnixListener> {
    fn step(what: &'static str) -> impl Fn(io::Error) -> io::Error {
        move |e| io::Error::new(e.kind(), format!("{what}: {e}"))
    }
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    socket.bind(&SockAddr::unix(path)?).map_err(step("bind"))?;
    let mode = if gid.is_some() { 0o660 } else { 0o600 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(step("setting its mode"))?;
    if let Some(gid) = gid {
        std::os::unix::fs::chown(path, None, Some(gid)).map_err(step("setting its group"))?;
    }
    socket.listen(16).map_err(step("listen"))?;
    socket.set_nonblocking(true)?;
    UnixListener::from_std(socket.into())
}

impl ControlBound {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn run(self, tasks: &mut Tasks, ctx: &Context) {
        let cancel = ctx.cancel.clone();
        tasks.spawn(async move {
            let turns = Arc::new(Semaphore::new(MAX_CONCURRENT));
            loop {
                let accepted = tokio::select! {
                    _ = cancel.cancelled() => break,
                    a = self.listener.accept() => a,
                };
                let stream = match accepted {
                    Ok((s, _)) => s,
                    Err(e) => {
                        debug!("control socket: accept: {e}");
                        continue;
                    }
                };
                let (sources, turns) = (self.sources.clone(), turns.clone());
                let ifindex = self.ifindex;
                tokio::spawn(async move {
                    let Ok(_turn) = turns.acquire().await else {
                        return;
                    };
                    let answered =
                        tokio::time::timeout(ANSWER_TIMEOUT, answer(stream, &sources, ifindex))
                            .await;
                    if let Ok(Err(e)) = answered {
                        debug!("control socket: {e}");
                    }
                });
            }
            // Removed on the way out when we may; as the service user we
            // may not, and the privileged helper removes it (the one this
            // daemon bound, never a later daemon's).
            let _ = std::fs::remove_file(&self.path);
            Ok(())
        });
    }
}

/// Reads one request line and writes its answer.
async fn answer(stream: UnixStream, sources: &Sources, ifindex: u32) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    BufReader::new(read)
        .take(protocol::MAX_REQUEST as u64)
        .read_line(&mut line)
        .await?;
    let body = match Request::parse(&line) {
        Err(e) => protocol::error_json(&e),
        Ok(request) => {
            // One blocking netlink dump (see `dump_now`); without it the
            // answer says nothing about ARP rather than fail.
            let neighbours = crate::neighbours::netlink::dump_now(ifindex).ok();
            let leases = sources.leases().await;
            let status = sources.status(
                SystemTime::now(),
                Instant::now(),
                &leases,
                neighbours.as_deref(),
            );
            protocol::answer_json(request, &status)
        }
    };
    write.write_all(body.as_bytes()).await?;
    write.write_all(b"\n").await?;
    write.shutdown().await
}
