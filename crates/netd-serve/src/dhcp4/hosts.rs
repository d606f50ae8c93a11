//! Host entries and options from files: `--dhcp-hostsfile=FILE|DIR` and
//! `--dhcp-optsfile=FILE|DIR` (re-read on SIGHUP), `--dhcp-hostsdir=DIR`
//! and `--dhcp-optsdir=DIR` (watched with inotify, and re-read on SIGHUP
//! too). A line is a `--dhcp-host` or `--dhcp-option` value; `#` starts a
//! comment. A bad line is logged with its file and line and skipped, so a
//! reload never leaves the server without the good ones. Every read
//! re-reads every file: an entry removed from a file is gone after it.
//!
//! Also the check every entry passes, from the command line or a file:
//! its address on the served subnet, its name's domain the `--domain`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use inotify::{Inotify, WatchMask};
use ipnetwork::Ipv4Network;
use netd_proto::dhcp4::host_spec::parse_host_spec;
use netd_proto::dhcp4::{Dhcp4Option, Reservation};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Quiet time after an inotify event before reading (an editor writes in
/// several steps).
const SETTLE: Duration = Duration::from_millis(100);

/// Where host entries (or options) come from besides the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostsFiles {
    /// `--dhcp-hostsfile` (`--dhcp-optsfile`): a file, or a directory
    /// whose files are read.
    pub files: Vec<PathBuf>,
    /// `--dhcp-hostsdir` (`--dhcp-optsdir`): directories watched for
    /// changes.
    pub dirs: Vec<PathBuf>,
}

/// How an options-file line is read: the command line's `--dhcp-option`
/// parser, handed down so files and options agree.
#[derive(Clone)]
pub struct OptionParser(pub Arc<ParseLine>);

/// Reads one line into an option, or says why it cannot.
pub type ParseLine = dyn Fn(&str) -> Result<Dhcp4Option, String> + Send + Sync;

impl std::fmt::Debug for OptionParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OptionParser")
    }
}

/// Options from files: where, and how a line is read.
#[derive(Debug, Clone, Default)]
pub struct OptsFiles {
    pub files: HostsFiles,
    pub parser: Option<OptionParser>,
}

impl OptsFiles {
    /// The options of every file; problems named by file and line.
    fn read(&self) -> (Vec<Dhcp4Option>, Vec<String>) {
        match &self.parser {
            Some(p) if !self.files.is_empty() => read_with(&self.files, &*p.0),
            _ => (Vec::new(), Vec::new()),
        }
    }
}

/// The entries and options in force, sent to the shell after a re-read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Update {
    pub hosts: Vec<Reservation>,
    pub options: Vec<Dhcp4Option>,
}

/// What a re-read starts from and reads.
#[derive(Debug, Clone)]
pub(crate) struct Sources {
    pub base_hosts: Vec<Reservation>,
    pub hosts: HostsFiles,
    pub check: HostCheck,
    pub base_options: Vec<Dhcp4Option>,
    pub opts: OptsFiles,
}

impl Sources {
    pub(crate) fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.opts.files.is_empty()
    }

    /// Reads every file and logs its problems: what to serve.
    pub(crate) fn load(&self) -> Update {
        let hosts = load(&self.base_hosts, &self.hosts, &self.check);
        let (from_files, errors) = self.opts.read();
        for e in &errors {
            warn!(service = "dhcp4", "{e}; line skipped");
        }
        let mut options = self.base_options.clone();
        options.extend(from_files);
        Update { hosts, options }
    }
}

impl HostsFiles {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.dirs.is_empty()
    }
}

/// What an entry is checked against.
#[derive(Debug, Clone)]
pub(crate) struct HostCheck {
    /// The served subnets: an entry's address is on one of them.
    pub subnets: Vec<Ipv4Network>,
    pub domain: Option<String>,
}

impl HostCheck {
    /// The entry as the server takes it: its address on the subnet, and a
    /// name with a domain only when that is the `--domain` (then kept as
    /// its first label).
    pub(crate) fn check(&self, h: &Reservation) -> Result<Reservation, String> {
        let mut h = h.clone();
        if let Some(a) = h.addr
            && !self.subnets.iter().any(|n| n.contains(a))
        {
            let nets: Vec<String> = self.subnets.iter().map(ToString::to_string).collect();
            return Err(format!("{a} is outside {}", nets.join(" and ")));
        }
        if let Some(name) = &h.hostname
            && let Some((label, domain)) = name.split_once('.')
        {
            match &self.domain {
                Some(d) if d.trim_end_matches('.').eq_ignore_ascii_case(domain) => {
                    h.hostname = Some(label.to_owned());
                }
                Some(d) => {
                    return Err(format!(
                        "the name {name} is not in the domain {d} (--domain)"
                    ));
                }
                None => {
                    return Err(format!(
                        "the name {name} has a domain, but no --domain is set"
                    ));
                }
            }
        }
        Ok(h)
    }
}

/// The files of `path`: itself, or a directory's regular files in name
/// order (hidden files and editor backups left out).
fn files_of(path: &Path) -> io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.') && !n.ends_with('~'))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Reads every file's entries; each problem (an unreadable file, a bad
/// line) is one message naming the file and line.
pub(crate) fn read_all(sources: &HostsFiles, check: &HostCheck) -> (Vec<Reservation>, Vec<String>) {
    read_with(sources, &|line: &str| {
        parse_host_spec(line).and_then(|h| check.check(&h))
    })
}

/// Reads every file's lines with `parse`.
fn read_with<T>(
    sources: &HostsFiles,
    parse: &dyn Fn(&str) -> Result<T, String>,
) -> (Vec<T>, Vec<String>) {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for path in sources.files.iter().chain(&sources.dirs) {
        let files = match files_of(path) {
            Ok(f) => f,
            Err(e) => {
                errors.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(text) => read_lines(&file, &text, parse, &mut entries, &mut errors),
                Err(e) => errors.push(format!("{}: {e}", file.display())),
            }
        }
    }
    (entries, errors)
}

fn read_lines<T>(
    file: &Path,
    text: &str,
    parse: &dyn Fn(&str) -> Result<T, String>,
    entries: &mut Vec<T>,
    errors: &mut Vec<String>,
) {
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        match parse(line) {
            Ok(h) => entries.push(h),
            Err(why) => errors.push(format!("{}:{}: {line}: {why}", file.display(), n + 1)),
        }
    }
}

/// Reads the files and logs their problems: the entries to serve.
pub(crate) fn load(
    base: &[Reservation],
    sources: &HostsFiles,
    check: &HostCheck,
) -> Vec<Reservation> {
    let (from_files, errors) = read_all(sources, check);
    for e in &errors {
        warn!(service = "dhcp4", "{e}; line skipped");
    }
    let mut all = base.to_vec();
    all.extend(from_files);
    all
}

/// Re-reads the files on SIGHUP and when a watched directory changes, and
/// sends the whole set of entries and options (command line first) to the
/// shell.
pub(crate) async fn follow(
    sources: Sources,
    mut reload: broadcast::Receiver<()>,
    to_shell: mpsc::Sender<Update>,
    cancel: CancellationToken,
) {
    let dirs: Vec<PathBuf> = sources
        .hosts
        .dirs
        .iter()
        .chain(&sources.opts.files.dirs)
        .cloned()
        .collect();
    let mut events = watch_dirs(&dirs);
    loop {
        let why = tokio::select! {
            _ = cancel.cancelled() => return,
            r = reload.recv() => match r {
                Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => "SIGHUP",
                Err(broadcast::error::RecvError::Closed) => return,
            },
            ev = async {
                match events.as_mut() {
                    Some(s) => futures_next(s).await,
                    None => std::future::pending().await,
                }
            } => match ev {
                Some(Ok(())) => {
                    tokio::time::sleep(SETTLE).await;
                    "a watched directory changed"
                }
                _ => {
                    warn!(service = "dhcp4", "inotify on --dhcp-hostsdir/--dhcp-optsdir failed; changes apply on SIGHUP");
                    events = None;
                    continue;
                }
            },
        };
        let update = sources.load();
        info!(
            service = "dhcp4",
            entries = update.hosts.len(),
            options = update.options.len(),
            "host entries and options re-read ({why})"
        );
        if to_shell.send(update).await.is_err() {
            return;
        }
    }
}

type Events = inotify::EventStream<[u8; 4096]>;

/// Waits for the next event of the stream.
async fn futures_next(s: &mut Events) -> Option<io::Result<()>> {
    use futures::StreamExt;
    s.next().await.map(|r| r.map(|_| ()))
}

fn watch_dirs(dirs: &[PathBuf]) -> Option<Events> {
    if dirs.is_empty() {
        return None;
    }
    let made = Inotify::init().and_then(|i| {
        let mut watches = i.watches();
        for d in dirs {
            watches.add(
                d,
                WatchMask::CLOSE_WRITE
                    | WatchMask::MOVED_TO
                    | WatchMask::MOVED_FROM
                    | WatchMask::CREATE
                    | WatchMask::DELETE,
            )?;
        }
        i.into_event_stream([0u8; 4096])
    });
    match made {
        Ok(s) => Some(s),
        Err(e) => {
            warn!(service = "dhcp4", error = %e, "cannot watch --dhcp-hostsdir/--dhcp-optsdir; changes apply on SIGHUP");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn check(domain: Option<&str>) -> HostCheck {
        HostCheck {
            subnets: vec!["192.168.26.0/24".parse().unwrap()],
            domain: domain.map(str::to_owned),
        }
    }

    fn spec(s: &str) -> Reservation {
        parse_host_spec(s).unwrap()
    }

    #[test]
    fn a_name_keeps_its_label_when_the_domain_is_ours() {
        let c = check(Some("lab.example"));
        let h = c.check(&spec("52:54:00:00:00:01,web.lab.example")).unwrap();
        assert_eq!(h.hostname.as_deref(), Some("web"));
        let e = c
            .check(&spec("52:54:00:00:00:01,web.other.example"))
            .unwrap_err();
        assert!(e.contains("lab.example"), "{e}");
        let e = check(None)
            .check(&spec("52:54:00:00:00:01,web.lab.example"))
            .unwrap_err();
        assert!(e.contains("no --domain"), "{e}");
        let e = c.check(&spec("52:54:00:00:00:01,10.0.0.5")).unwrap_err();
        assert!(e.contains("outside 192.168.26.0/24"), "{e}");
    }

    #[test]
    fn files_and_directories_are_read_bad_lines_named_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hosts");
        std::fs::write(
            &file,
            "# the web server\n52:54:00:00:00:01,192.168.26.5,web\n\nbogus line\n",
        )
        .unwrap();
        let sub = dir.path().join("d");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("b"), "52:54:00:00:00:03,192.168.26.7\n").unwrap();
        std::fs::write(sub.join("a"), "52:54:00:00:00:02,192.168.26.6 # c\n").unwrap();
        std::fs::write(sub.join(".hidden"), "nonsense\n").unwrap();
        let sources = HostsFiles {
            files: vec![file.clone()],
            dirs: vec![sub],
        };
        let (entries, errors) = read_all(&sources, &check(None));
        let addrs: Vec<_> = entries.iter().map(|e| e.addr.unwrap()).collect();
        assert_eq!(
            addrs,
            [5, 6, 7].map(|n| Ipv4Addr::new(192, 168, 26, n)).to_vec()
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with(&format!("{}:4: bogus line: ", file.display())),
            "{errors:?}"
        );
    }

    fn option(code: u8) -> Dhcp4Option {
        Dhcp4Option {
            code,
            value: netd_proto::dhcp4::OptionValue::Empty,
            force: false,
            tags: Vec::new(),
        }
    }

    #[test]
    fn options_files_go_through_the_given_parser_and_add_to_the_base() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("opts");
        std::fs::write(
            &file,
            "42,10.0.0.1
# note
bad
",
        )
        .unwrap();
        let parser = OptionParser(Arc::new(|line: &str| {
            let (code, _) = line.split_once(',').ok_or("no value")?;
            let code: u8 = code.parse().map_err(|_| "not a number".to_string())?;
            Ok(option(code))
        }));
        let sources = Sources {
            base_hosts: Vec::new(),
            hosts: HostsFiles::default(),
            check: check(None),
            base_options: vec![option(3)],
            opts: OptsFiles {
                files: HostsFiles {
                    files: vec![file.clone()],
                    dirs: Vec::new(),
                },
                parser: Some(parser),
            },
        };
        let (read, errors) = sources.opts.read();
        assert_eq!(read.len(), 1);
        assert_eq!(errors, [format!("{}:3: bad: no value", file.display())]);
        let codes: Vec<u8> = sources.load().options.iter().map(|o| o.code).collect();
        assert_eq!(codes, [3, 42]);
    }
}
