//! The network-namespace lab every end-to-end test builds for itself.
//!
//! A [`Lab`] makes a "host" namespace holding the bridge `nat0`
//! (192.168.26.1/24), "container" namespaces joined to it by veth pairs, and
//! optionally an "internet" namespace behind the host's `uplink`. Nothing is
//! ever linked to the machine's own namespace. Names are unique per process
//! and lab (`nn-<pid>-<n>-<role>`), so parallel tests and parallel runs do
//! not collide. `Drop` kills what the lab started and deletes every
//! namespace and its `/etc/netns/NAME` directory, even when the test panics.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The bridge's IPv4 address and prefix in every lab.
pub const BRIDGE_V4: &str = "192.168.26.1/24";
pub const BRIDGE_V6: &str = "fd23::1/64";
pub const UPLINK_V4: &str = "203.0.113.1/24";
pub const UPLINK_V6: &str = "2001:db8:1::1/64";
pub const INTERNET_V4: &str = "203.0.113.2/24";
pub const INTERNET_V6: &str = "2001:db8:1::2/64";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Sets nspawn-netd's `--control-dir` (and where `status` looks for it).
pub const CONTROL_DIR_ENV: &str = "NSPAWN_NETD_CONTROL_DIR";

/// The `nspawn-netd` executable under test: `$NSPAWN_NETD_BIN` if set, else
/// the one Cargo built beside the running test or bench
/// (`target/PROFILE/deps/TEST-HASH` -> `target/PROFILE/nspawn-netd`).
pub fn netd_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("NSPAWN_NETD_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("the running test's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("a test binary inside target/PROFILE/deps");
    let bin = profile_dir.join("nspawn-netd");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build` (cargo test and cargo bench build it)",
        bin.display()
    );
    bin
}

/// Panics unless we are root with `ip netns` at hand: CI runs as root, so an
/// end-to-end test never skips silently.
pub fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "the end-to-end tests need root (network namespaces)"
    );
}

/// A network namespace the lab made.
#[derive(Debug, Clone)]
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// `ip netns exec NAME program`: the program sees this namespace's
    /// network, /sys and `/etc/netns/NAME` files.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    pub fn run(&self, argv: &[&str]) -> Output {
        let (program, args) = argv.split_first().expect("an argv");
        self.cmd(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running {argv:?} in {}: {e}", self.name))
    }

    /// Runs and returns stdout; panics with stderr if the command fails.
    pub fn run_ok(&self, argv: &[&str]) -> String {
        let out = self.run(argv);
        assert!(
            out.status.success(),
            "{argv:?} in {} failed ({}):\nstdout: {}\nstderr: {}",
            self.name,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts a process in the namespace; the caller owns it.
    pub fn spawn(&self, argv: &[&str]) -> Child {
        let (program, args) = argv.split_first().expect("an argv");
        self.cmd(program)
            .args(args)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {argv:?} in {}: {e}", self.name))
    }

    pub fn etc_dir(&self) -> PathBuf {
        Path::new("/etc/netns").join(&self.name)
    }

    /// Rewrites `/etc/netns/NAME/resolv.conf` in place (same inode), so a
    /// process already running in the namespace sees the new text through
    /// its bind mount of `/etc/resolv.conf`.
    pub fn set_resolv_conf(&self, text: &str) {
        let dir = self.etc_dir();
        fs::create_dir_all(&dir).expect("creating /etc/netns dir");
        let path = dir.join("resolv.conf");
        let mut f = fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        std::io::Write::write_all(&mut f, text.as_bytes()).expect("writing resolv.conf");
    }

    /// Puts a static address (`192.168.26.50/24`, `fd23::50/64`) on the
    /// container's `host0`, as a container without DHCP would have;
    /// IPv6 without duplicate address detection, so it is usable at once.
    pub fn add_host0_addr(&self, cidr: &str) {
        if cidr.contains(':') {
            self.run_ok(&["ip", "-6", "addr", "add", cidr, "dev", "host0", "nodad"]);
        } else {
            self.run_ok(&["ip", "addr", "add", cidr, "dev", "host0"]);
        }
    }

    /// The MAC address of `ifname` inside this namespace.
    pub fn mac(&self, ifname: &str) -> [u8; 6] {
        let out = self.run_ok(&["cat", &format!("/sys/class/net/{ifname}/address")]);
        let mut mac = [0u8; 6];
        for (b, part) in mac.iter_mut().zip(out.trim().split(':')) {
            *b = u8::from_str_radix(part, 16).expect("a MAC in sysfs");
        }
        mac
    }

    /// `mac(ifname)` as `aa:bb:cc:dd:ee:ff`.
    pub fn mac_string(&self, ifname: &str) -> String {
        netd_proto::MacAddr(self.mac(ifname)).to_string()
    }
}

/// A running `nspawn-netd` in the lab's host namespace.
#[derive(Debug)]
pub struct Daemon {
    pub pid: u32,
    pub log: PathBuf,
    child: Option<Child>,
}

impl Daemon {
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on a pid we started.
        unsafe { libc::kill(self.pid as i32, sig) };
    }

    /// True once the log holds `needle`, false after `timeout`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        wait_until(timeout, || self.log_text().contains(needle))
    }

    /// Is the process still running?
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// SIGTERM, up to 5 s to exit, then SIGKILL.
    pub fn stop(mut self) -> ExitStatus {
        self.terminate().expect("the daemon was running")
    }

    fn terminate(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        child.wait().ok()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// One test's namespaces, processes and scratch files.
#[derive(Debug)]
pub struct Lab {
    prefix: String,
    host: Netns,
    namespaces: Vec<Netns>,
    dir: PathBuf,
    containers: u32,
    internet: Option<Netns>,
}

impl Lab {
    /// Host namespace with `nat0` = 192.168.26.1/24, up.
    pub fn new() -> Lab {
        Lab::with_bridge("nat0", BRIDGE_V4)
    }

    /// Host namespace with a bridge named as a caller of dnsmasq names its
    /// own (`lxcbr0`, `incusbr0`, `virbr0`), holding `cidr`, up. STP off
    /// and no forward delay, so a port forwards as soon as it is added.
    pub fn with_bridge(name: &str, cidr: &str) -> Lab {
        let lab = Lab::without_bridge();
        let h = lab.host();
        h.run_ok(&[
            "ip",
            "link",
            "add",
            name,
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
        ]);
        h.run_ok(&["ip", "addr", "add", cidr, "dev", name]);
        h.run_ok(&["ip", "link", "set", name, "up"]);
        lab
    }

    /// Host namespace without the bridge, for `nspawn-netd up`.
    pub fn without_bridge() -> Lab {
        require_root();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let prefix = format!("nn-{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(format!("{prefix}-lab"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("creating the lab dir");
        let host = Netns {
            name: format!("{prefix}-host"),
        };
        let mut lab = Lab {
            prefix,
            host: host.clone(),
            namespaces: Vec::new(),
            dir,
            containers: 0,
            internet: None,
        };
        lab.add_namespace(&host);
        lab
    }

    pub fn host(&self) -> &Netns {
        &self.host
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds fd23::1/64 (no DAD) to nat0.
    pub fn add_ipv6(&self) {
        self.host
            .run_ok(&["ip", "-6", "addr", "add", BRIDGE_V6, "dev", "nat0", "nodad"]);
    }

    /// A container namespace joined to `nat0`; inside, `host0` is up with no
    /// address.
    pub fn container(&mut self, short: &str) -> Netns {
        self.container_on("nat0", short)
    }

    /// A container namespace joined to the host's bridge `bridge`, which
    /// must exist by now (made by [`Lab::with_bridge`], or by a program
    /// under test such as lxc-net); inside, `host0` is up with no address.
    pub fn container_on(&mut self, bridge: &str, short: &str) -> Netns {
        self.containers += 1;
        let ns = Netns {
            name: format!("{}-c{}{}", self.prefix, self.containers, short),
        };
        self.add_namespace(&ns);
        // The host side gets a short unique name (IFNAMSIZ is 16).
        let host_side = format!("vc{}", self.containers);
        self.host.run_ok(&[
            "ip", "link", "add", &host_side, "type", "veth", "peer", "name", "host0", "netns",
            &ns.name,
        ]);
        self.host
            .run_ok(&["ip", "link", "set", &host_side, "master", bridge, "up"]);
        ns.run_ok(&["ip", "link", "set", "host0", "up"]);
        ns
    }

    /// Unplugs a container from its bridge (deletes its veth pair), as
    /// stopping the container would; the namespace stays until `Drop`.
    pub fn unplug(&self, container: &Netns) {
        container.run_ok(&["ip", "link", "del", "host0"]);
    }

    /// An "internet" namespace behind the host's `uplink`.
    pub fn internet(&mut self) -> Netns {
        if let Some(ns) = &self.internet {
            return ns.clone();
        }
        let ns = Netns {
            name: format!("{}-inet", self.prefix),
        };
        self.add_namespace(&ns);
        self.host.run_ok(&[
            "ip", "link", "add", "uplink", "type", "veth", "peer", "name", "eth0", "netns",
            &ns.name,
        ]);
        self.host
            .run_ok(&["ip", "addr", "add", UPLINK_V4, "dev", "uplink"]);
        self.host.run_ok(&[
            "ip", "-6", "addr", "add", UPLINK_V6, "dev", "uplink", "nodad",
        ]);
        self.host.run_ok(&["ip", "link", "set", "uplink", "up"]);
        ns.run_ok(&["ip", "addr", "add", INTERNET_V4, "dev", "eth0"]);
        ns.run_ok(&[
            "ip",
            "-6",
            "addr",
            "add",
            INTERNET_V6,
            "dev",
            "eth0",
            "nodad",
        ]);
        ns.run_ok(&["ip", "link", "set", "eth0", "up"]);
        self.internet = Some(ns.clone());
        ns
    }

    /// Starts `nspawn-netd ARGS` in the host namespace and waits until it
    /// says it is ready.
    pub fn start_daemon(&mut self, args: &[&str]) -> Daemon {
        self.spawn_netd(args, "nspawn-netd ready")
    }

    /// Starts `nspawn-netd ARGS` in the host namespace and waits (≤10 s) for
    /// `ready_line` in its log.
    /// The daemon itself (no subcommand) is kept in the foreground
    /// (`--keep-in-foreground`), logging to stderr, so the lab owns its
    /// process; it still drops to its service user as it does in use.
    pub fn spawn_netd(&mut self, args: &[&str], ready_line: &str) -> Daemon {
        let bin = netd_bin();
        let subcommand = args
            .first()
            .is_some_and(|a| ["up", "ra", "down", "doctor", "container"].contains(a));
        let mut all: Vec<&str> = Vec::with_capacity(args.len() + 2);
        if !subcommand {
            all.push("--keep-in-foreground");
        }
        // Never the machine's /var/lib/misc: a lease file of this lab's own
        // unless the test names one.
        let names_lease_file = args.iter().any(|a| {
            [
                "--dhcp-leasefile",
                "--dhcp-lease-file",
                "-l",
                "--conf-file",
                "-C",
                "--leasefile-ro",
            ]
            .iter()
            .any(|o| a == o || a.starts_with(&format!("{o}=")))
        });
        let lease_file = format!(
            "--dhcp-leasefile={}",
            self.dir
                .join(format!("netd-{}.leases", COUNTER.load(Ordering::SeqCst)))
                .display()
        );
        all.extend_from_slice(args);
        if (!subcommand || args.first() == Some(&"up")) && !names_lease_file {
            all.push(&lease_file);
        }
        self.spawn_server(&bin.to_string_lossy(), &all, ready_line)
    }

    /// Starts `program ARGS` in the host namespace, output to a log file in
    /// the lab dir, and waits (≤10 s) for `ready_line` in that log. Used for
    /// nspawn-netd and for dnsmasq as the reference. nspawn-netd's control
    /// socket goes in the lab dir ([`CONTROL_DIR_ENV`]), never in /run.
    pub fn spawn_server(&mut self, program: &str, args: &[&str], ready_line: &str) -> Daemon {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let base = Path::new(program)
            .file_name()
            .map(|s| s.to_string_lossy().into_owned());
        let log = self
            .dir
            .join(format!("{}-{n}.log", base.unwrap_or_default()));
        let out = fs::File::create(&log).expect("creating the daemon log");
        let err = out.try_clone().expect("cloning the log handle");
        let child = self
            .host
            .cmd(program)
            .args(args)
            .env("RUST_LOG", "debug")
            .env(CONTROL_DIR_ENV, &self.dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("starting nspawn-netd");
        let mut daemon = Daemon {
            pid: child.id(),
            log,
            child: Some(child),
        };
        let ready = wait_until(Duration::from_secs(10), || {
            daemon.log_text().contains(ready_line) || !daemon.is_running()
        });
        let text = daemon.log_text();
        assert!(
            ready && text.contains(ready_line),
            "{program} {args:?} did not become ready:\n{text}"
        );
        daemon
    }

    fn add_namespace(&mut self, ns: &Netns) {
        let status = Command::new("ip")
            .args(["netns", "add", &ns.name])
            .status()
            .expect("running ip netns add");
        assert!(status.success(), "ip netns add {} failed", ns.name);
        self.namespaces.push(ns.clone());
        // Never let anything in the lab forward to the machine's resolver.
        ns.set_resolv_conf("nameserver 127.0.0.1\n");
        ns.run_ok(&["ip", "link", "set", "lo", "up"]);
    }
}

impl Default for Lab {
    fn default() -> Self {
        Lab::new()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Kill every process still inside our namespaces, then delete them.
        for ns in self.namespaces.iter().rev() {
            if let Ok(out) = Command::new("ip")
                .args(["netns", "pids", &ns.name])
                .output()
            {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    if let Ok(pid) = pid.parse::<i32>() {
                        // SAFETY: kill(2); the pid is inside our namespace.
                        unsafe { libc::kill(pid, libc::SIGKILL) };
                    }
                }
            }
        }
        let mut failures = Vec::new();
        for ns in self.namespaces.iter().rev() {
            let deleted = wait_until(Duration::from_secs(3), || {
                Command::new("ip")
                    .args(["netns", "delete", &ns.name])
                    .stderr(Stdio::null())
                    .status()
                    .map(|s| s.success())
                    .unwrap_or(false)
                    || !Path::new("/run/netns").join(&ns.name).exists()
            });
            if !deleted {
                failures.push(ns.name.clone());
            }
            let _ = fs::remove_dir_all(ns.etc_dir());
        }
        if std::env::var_os("NN_KEEP_LAB_DIR").is_none() {
            let _ = fs::remove_dir_all(&self.dir);
        }
        if !failures.is_empty() && !std::thread::panicking() {
            panic!("could not delete namespaces {failures:?}");
        }
    }
}

/// Polls `f` every 20 ms until it is true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads a whole file, or "" if it is missing.
pub fn read_or_empty(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = fs::File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    s
}

/// Runs `f` on a thread that has entered `ns`'s network namespace, so that
/// sockets it opens live there. The test process itself stays where it was.
pub fn in_netns<T: Send + 'static>(ns: &Netns, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = Path::new("/run/netns").join(&ns.name);
    std::thread::spawn(move || {
        let file = fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // SAFETY: setns(2) on a namespace fd we hold; it changes this thread only.
        let rc = unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&file), libc::CLONE_NEWNET) };
        assert_eq!(
            rc,
            0,
            "setns into {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        );
        f()
    })
    .join()
    .expect("the thread inside the namespace panicked")
}
