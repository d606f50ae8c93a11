//! `libvirtd` (Debian 12's `libvirt-daemon`, started by hand) in a lab host
//! namespace and a private mount namespace, with nothing of the machine's
//! in its way:
//!
//! - `/run`, `/var/lib` ([`CallerFs`]), `/etc/libvirt`, `/var/log` and
//!   `/var/cache` are lab directories, so its sockets, pid files, network
//!   definitions, dnsmasq files and lease-helper status are the lab's;
//!   hiding `/run` also hides the machine's D-Bus, so libvirt uses no
//!   firewalld and writes its iptables rules into the lab namespace;
//! - only the network driver is loaded (`LIBVIRT_DRIVER_DIR` names a lab
//!   directory holding just `libvirt_driver_network.so`): the QEMU driver
//!   would need the `libvirt-qemu` user and `kvm` group that
//!   `libvirt-daemon-system` creates, and the network driver needs neither;
//! - its own `libvirtd.conf` turns off polkit (no polkit daemon here) for
//!   the unix socket, which the test's `virsh` reaches by path with the
//!   network driver's URI, `network+unix:///system?socket=…`.
//!
//! The binary under test is `/usr/sbin/dnsmasq`, the path libvirt runs.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use netd_testkit::lab::{Lab, read_or_empty, wait_until};
use netd_testkit::private_mounts::PrivateMounts;

use crate::callers::CallerFs;

const LIBVIRTD: &str = "/usr/sbin/libvirtd";
/// Where Debian's `libvirt-daemon` puts its connection drivers, under
/// `/usr/lib/MULTIARCH-TRIPLET`.
const DRIVER_DIR: &str = "libvirt/connection-driver";
const NETWORK_DRIVER: &str = "libvirt_driver_network.so";
/// libvirt's lease helper, which dnsmasq runs as `--dhcp-script`.
pub const LEASES_HELPER: &str = "/usr/lib/libvirt/libvirt_leaseshelper";

/// The daemon's settings: the unix socket without polkit.
const LIBVIRTD_CONF: &str = "\
auth_unix_rw = \"none\"
auth_unix_ro = \"none\"
unix_sock_rw_perms = \"0700\"
";

/// A running `libvirtd` with its lab.
#[derive(Debug)]
pub struct Libvirtd {
    pub lab: Lab,
    pub fs: CallerFs,
    child: Child,
    log: PathBuf,
    uri: String,
    /// What each start of libvirtd needs.
    mounts: PrivateMounts,
    drivers: PathBuf,
}

impl Libvirtd {
    /// Starts libvirtd with `binary` as its dnsmasq and waits until `virsh`
    /// can talk to it.
    pub fn start(binary: &Path) -> Libvirtd {
        for p in [
            LIBVIRTD,
            LEASES_HELPER,
            "/usr/bin/virsh",
            "/usr/sbin/iptables",
        ] {
            assert!(
                Path::new(p).exists(),
                "{p} is missing: install libvirt-daemon, libvirt-clients and iptables \
                 (see .ci/run)"
            );
        }
        let network_driver = network_driver();
        let lab = Lab::without_bridge();
        let fs = CallerFs::new(lab.dir());
        let dir = lab.dir();
        let drivers = dir.join("libvirt-drivers");
        let etc = dir.join("etc-libvirt");
        let (var_log, var_cache) = (dir.join("var-log"), dir.join("var-cache"));
        for d in [
            &drivers,
            &etc,
            &var_log.join("libvirt"),
            &var_cache.join("libvirt"),
        ] {
            fs::create_dir_all(d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        }
        fs.mkdir("/var/lib/libvirt");
        symlink(&network_driver, drivers.join(NETWORK_DRIVER)).expect("linking the network driver");
        fs::write(etc.join("libvirtd.conf"), LIBVIRTD_CONF).expect("writing libvirtd.conf");

        // /etc/libvirt exists wherever libvirt-clients is installed.
        let mounts: PrivateMounts = fs
            .mounts(binary)
            .bind(&etc, "/etc/libvirt")
            .bind(&var_log, "/var/log")
            .bind(&var_cache, "/var/cache");
        let log = dir.join("libvirtd.log");
        let child = spawn(&lab, &mounts, &drivers, &log);
        let socket = fs.path("/run/libvirt/libvirt-sock");
        let uri = format!("network+unix:///system?socket={}", socket.display());
        let mut daemon = Libvirtd {
            lab,
            fs,
            child,
            log,
            uri,
            mounts,
            drivers,
        };
        daemon.wait_ready();
        daemon
    }

    fn wait_ready(&mut self) {
        let socket = self.fs.path("/run/libvirt/libvirt-sock");
        let ready = wait_until(Duration::from_secs(15), || {
            !self.is_running() || (socket.exists() && self.virsh(&["net-list"]).status.success())
        });
        assert!(
            ready && self.is_running(),
            "libvirtd did not start:\n{}",
            self.log_text()
        );
    }

    /// Stops libvirtd (SIGTERM, as its service's stop does), which leaves
    /// running networks running, and starts it again.
    pub fn restart(&mut self) {
        // SAFETY: kill(2) on the child we started.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let stopped = wait_until(Duration::from_secs(10), || !self.is_running());
        assert!(stopped, "libvirtd ignored SIGTERM:\n{}", self.log_text());
        self.child = spawn(&self.lab, &self.mounts, &self.drivers, &self.log);
        self.wait_ready();
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn log_text(&self) -> String {
        read_or_empty(&self.log)
    }

    /// `virsh ARGS` against this daemon, from the lab host namespace.
    pub fn virsh(&self, args: &[&str]) -> Output {
        let mut argv = vec!["virsh", "-q", "-c", &self.uri];
        argv.extend_from_slice(args);
        self.lab.host().run(&argv)
    }

    /// `virsh net-define` of `xml` (written to the lab directory first),
    /// then `net-start NAME`.
    pub fn define_and_start(&self, name: &str, xml: &str) {
        let path = self.lab.dir().join(format!("{name}.xml"));
        fs::write(&path, xml).expect("writing the network's XML");
        self.virsh_ok(&["net-define", &path.display().to_string()]);
        self.virsh_ok(&["net-start", name]);
    }

    /// The text of `/var/lib/libvirt/dnsmasq/NAME`, or "".
    pub fn dnsmasq_file(&self, name: &str) -> String {
        read_or_empty(&self.fs.path(&format!("/var/lib/libvirt/dnsmasq/{name}")))
    }

    /// `virsh ARGS`, which must succeed; its standard output.
    pub fn virsh_ok(&self, args: &[&str]) -> String {
        let out = self.virsh(args);
        assert!(
            out.status.success(),
            "virsh {args:?}: {}\nstdout: {}\nstderr: {}\nlibvirtd's log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log_text()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// libvirtd in the lab, its output appended to `log`.
fn spawn(lab: &Lab, mounts: &PrivateMounts, drivers: &Path, log: &Path) -> Child {
    let out = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("opening libvirtd's log");
    let err = out.try_clone().expect("cloning the log handle");
    mounts
        .command(lab.host(), &[LIBVIRTD, "-f", "/etc/libvirt/libvirtd.conf"])
        .env("LIBVIRT_DRIVER_DIR", drivers)
        .env("LIBVIRT_LOG_OUTPUTS", "3:stderr")
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .expect("starting libvirtd")
}

/// `libvirt_driver_network.so` in the machine's multiarch library
/// directory.
fn network_driver() -> PathBuf {
    fs::read_dir("/usr/lib")
        .expect("reading /usr/lib")
        .filter_map(Result::ok)
        .map(|e| e.path().join(DRIVER_DIR).join(NETWORK_DRIVER))
        .find(|p| p.exists())
        .expect("no /usr/lib/*/libvirt/connection-driver/libvirt_driver_network.so: install libvirt-daemon")
}

impl Drop for Libvirtd {
    fn drop(&mut self) {
        // The lab kills whatever else runs in its namespaces (dnsmasq).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
