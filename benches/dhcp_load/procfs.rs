//! What the bench reads about a server process from /proc: CPU time
//! (utime + stime, its own and its helper's) and memory (VmRSS, VmHWM).

use std::time::Duration;

/// utime + stime of `pid` and of its direct children (nspawn-netd's
/// privileged helper does the snapshot and lease-file writes), in clock
/// ticks.
pub fn cpu_ticks(pid: u32) -> Ticks {
    let mut total = own_ticks(pid).unwrap_or_default();
    for child in children(pid) {
        let t = own_ticks(child).unwrap_or_default();
        total.user += t.user;
        total.system += t.system;
    }
    total
}

/// User and system time, in clock ticks.
#[derive(Debug, Default, Clone, Copy)]
pub struct Ticks {
    pub user: u64,
    pub system: u64,
}

impl std::ops::Sub for Ticks {
    type Output = Ticks;
    fn sub(self, o: Ticks) -> Ticks {
        Ticks {
            user: self.user.saturating_sub(o.user),
            system: self.system.saturating_sub(o.system),
        }
    }
}

/// Ticks as time.
pub fn ticks_to_duration(ticks: u64) -> Duration {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_micros(ticks * 1_000_000 / hz)
}

fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name: state is the first.
    let rest = stat.rsplit_once(')')?.1;
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

fn own_ticks(pid: u32) -> Option<Ticks> {
    let f = stat_fields(pid)?;
    // utime and stime are the 14th and 15th fields overall.
    Some(Ticks {
        user: f.get(11)?.parse().ok()?,
        system: f.get(12)?.parse().ok()?,
    })
}

fn children(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&p| {
            stat_fields(p)
                .and_then(|f| f.get(1)?.parse::<u32>().ok())
                .is_some_and(|ppid| ppid == pid)
        })
        .collect()
}

/// A `/proc/PID/status` field in KiB (`VmRSS:`, `VmHWM:`).
pub fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The 1-minute load average, as `uptime` shows it.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| {
            let f: Vec<&str> = s.split_whitespace().collect();
            Some(format!("{} {} {}", f.first()?, f.get(1)?, f.get(2)?))
        })
        .unwrap_or_default()
}
