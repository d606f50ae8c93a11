//! nsd as the lab's authoritative upstream: configured in its own directory,
//! answering on one address of a namespace (normally the internet
//! namespace's 203.0.113.2), killed on drop. Its response rate limiting is
//! off: every forwarded query comes from the one address of the forwarder,
//! which it would otherwise throttle.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use crate::lab::{Netns, wait_until};

#[derive(Debug)]
pub struct Nsd {
    child: Child,
    dir: PathBuf,
}

impl Nsd {
    /// Serves `zone_text` as zone `origin` on `ip` in `ns`, with its files
    /// under `dir`, and waits (≤10 s) until `probe` (a name in the zone)
    /// answers. `cpu` pins nsd to one CPU (for benches).
    pub fn start(
        ns: &Netns,
        dir: &Path,
        ip: &str,
        origin: &str,
        zone_text: &str,
        probe: &str,
        cpu: Option<u32>,
    ) -> Nsd {
        let dir = dir.join(format!("nsd-{ip}"));
        std::fs::create_dir_all(&dir).expect("nsd dir");
        let zone_file = format!("{origin}.zone");
        std::fs::write(dir.join(&zone_file), zone_text).expect("writing the zone");
        let d = dir.display();
        let conf = format!(
            "server:\n  ip-address: {ip}\n  port: 53\n  zonesdir: \"{d}\"\n  database: \"\"\n  \
             pidfile: \"{d}/nsd.pid\"\n  xfrdfile: \"{d}/xfrd.state\"\n  zonelistfile: \"{d}/zone.list\"\n  \
             xfrdir: \"{d}\"\n  username: \"\"\n  chroot: \"\"\n  logfile: \"{d}/nsd.log\"\n  \
             server-count: 1\n  verbosity: 1\n  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n\
             remote-control:\n  control-enable: no\n\
             zone:\n  name: {origin}\n  zonefile: {zone_file}\n"
        );
        let conf_path = dir.join("nsd.conf");
        std::fs::write(&conf_path, conf).expect("writing nsd.conf");
        let conf_arg = conf_path.display().to_string();
        let cpu_arg = cpu.map(|c| c.to_string());
        let mut argv = Vec::new();
        if let Some(c) = &cpu_arg {
            argv.extend(["taskset", "-c", c.as_str()]);
        }
        argv.extend(["nsd", "-d", "-c", conf_arg.as_str()]);
        let nsd = Nsd {
            child: ns.spawn(&argv),
            dir,
        };
        let at = format!("@{ip}");
        let ready = wait_until(Duration::from_secs(10), || {
            let out = ns.run(&["dig", &at, "+short", "+tries=1", "+timeout=1", probe]);
            !out.stdout.is_empty()
        });
        assert!(ready, "nsd on {ip} did not answer {probe}:\n{}", nsd.log());
        nsd
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("nsd.log")).unwrap_or_default()
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Nsd {
    fn drop(&mut self) {
        self.stop();
    }
}
