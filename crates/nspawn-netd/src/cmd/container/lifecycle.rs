//! `container start|stop|shell`: through `machinectl` where
//! systemd-machined runs; otherwise `systemd-nspawn` runs detached with a
//! pid file and a console log in the run directory, `stop` sends it SIGTERM
//! (nspawn turns that into an orderly poweroff of the container) and
//! `shell` enters the container's namespaces with `nsenter`.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use netd_container::machines;
use netd_container::sys::{self, Signal};

use super::{Dirs, existing_machine, machined_available, require_root};

/// How long a just-started nspawn is watched for an early failure.
const START_CHECK: Duration = Duration::from_secs(2);

/// The `systemd-nspawn` command line that boots `root` on `bridge` without
/// machined: `--register=no` (no machined to register with) and
/// `--keep-unit` (no systemd to make a scope unit), console output to the
/// log.
pub(super) fn nspawn_argv(root: &Path, name: &str, bridge: &str) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec!["-b".into(), "-D".into(), root.into()];
    argv.push(format!("--machine={name}").into());
    argv.push(format!("--network-bridge={bridge}").into());
    for a in ["--register=no", "--keep-unit", "--console=read-only"] {
        argv.push(a.into());
    }
    argv
}

pub(super) fn start(dirs: &Dirs, name: &str) -> anyhow::Result<()> {
    require_root("container start")?;
    let machine = existing_machine(dirs, name)?;
    if machines::is_running(&machine.root) {
        bail!("{name} is already running");
    }
    if machined_available() {
        return run_status(Command::new("machinectl").args(["start", name]));
    }
    let Some(bridge) = machine.bridge else {
        bail!(
            "{} names no bridge ([Network] Bridge=); recreate it or add one",
            dirs.nspawn_file(name).display()
        );
    };
    std::fs::create_dir_all(&dirs.run_dir)
        .with_context(|| format!("creating {}", dirs.run_dir.display()))?;
    let log_path = dirs.console_log(name);
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    let mut cmd = Command::new("systemd-nspawn");
    cmd.args(nspawn_argv(&machine.root, name, &bridge))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // A new session detaches nspawn from our terminal so that it outlives
    // this command.
    sys::new_session_on_spawn(&mut cmd);
    let mut child = cmd.spawn().context("starting systemd-nspawn")?;
    let pid = child.id();
    std::fs::write(dirs.pid_file(name), format!("{pid}\n"))
        .with_context(|| format!("writing {}", dirs.pid_file(name).display()))?;
    let deadline = Instant::now() + START_CHECK;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            let _ = std::fs::remove_file(dirs.pid_file(name));
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(20).collect();
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
            bail!(
                "systemd-nspawn exited at once ({status}); log: {}",
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "{name} is booting on {bridge} (systemd-nspawn pid {pid}); console: {}\n\
         shell: nspawn-netd container shell {name}; stop: nspawn-netd container stop {name}",
        log_path.display()
    );
    Ok(())
}

pub(super) fn stop(dirs: &Dirs, name: &str, timeout: u64) -> anyhow::Result<()> {
    require_root("container stop")?;
    let machine = existing_machine(dirs, name)?;
    let timeout = Duration::from_secs(timeout);
    if machined_available() && !dirs.pid_file(name).exists() {
        run_status(Command::new("machinectl").args(["poweroff", name]))?;
        let deadline = Instant::now() + timeout;
        while machines::is_running(&machine.root) {
            if Instant::now() > deadline {
                bail!("{name} did not stop within {}s", timeout.as_secs());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        println!("{name} stopped");
        return Ok(());
    }
    let pid = nspawn_pid(dirs, name)?;
    // `pid` was checked to be our nspawn; if it has just gone, the wait
    // below ends at once.
    let _ = sys::send_signal(pid, Signal::Term);
    let deadline = Instant::now() + timeout;
    while Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid) {
        if Instant::now() > deadline {
            let _ = sys::send_signal(pid, Signal::Kill);
            let _ = std::fs::remove_file(dirs.pid_file(name));
            bail!(
                "{name} did not power off within {}s; killed",
                timeout.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = std::fs::remove_file(dirs.pid_file(name));
    println!("{name} stopped");
    Ok(())
}

pub(super) fn shell(dirs: &Dirs, name: &str, command: &[String]) -> anyhow::Result<()> {
    require_root("container shell")?;
    existing_machine(dirs, name)?;
    if machined_available() && !dirs.pid_file(name).exists() {
        let err = Command::new("machinectl")
            .arg("shell")
            .arg(name)
            .args(command)
            .exec();
        return Err(err).context("running machinectl");
    }
    let nspawn = nspawn_pid(dirs, name)?;
    let leader = children(nspawn).into_iter().next().with_context(|| {
        format!("{name}'s systemd-nspawn (pid {nspawn}) has no container process yet")
    })?;
    let mut cmd = Command::new("nsenter");
    cmd.arg(format!("--target={leader}"))
        .arg("--all")
        .arg("--")
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env("HOME", "/root")
        .env(
            "TERM",
            std::env::var_os("TERM").unwrap_or_else(|| "dumb".into()),
        );
    if command.is_empty() {
        cmd.args([
            "/bin/sh",
            "-c",
            "if [ -x /bin/bash ]; then exec /bin/bash -l; fi; exec /bin/sh -l",
        ]);
    } else {
        cmd.args(command);
    }
    Err(cmd.exec()).context("running nsenter")
}

/// The pid of the `systemd-nspawn` that `start` left running for `name`.
fn nspawn_pid(dirs: &Dirs, name: &str) -> anyhow::Result<u32> {
    let path = dirs.pid_file(name);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{name} is not running (no {})", path.display()))?;
    let pid: u32 = text
        .trim()
        .parse()
        .with_context(|| format!("{}: not a pid", path.display()))?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if !cmdline
        .split(|b| *b == 0)
        .next()
        .is_some_and(|a| a.ends_with(b"systemd-nspawn"))
        || is_zombie(pid)
    {
        let _ = std::fs::remove_file(&path);
        bail!("{name} is not running (its systemd-nspawn, pid {pid}, is gone)");
    }
    Ok(pid)
}

/// Pids whose parent is `pid`, lowest first.
fn children(pid: u32) -> Vec<u32> {
    let mut out: Vec<u32> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| stat_field(*p, 1).is_some_and(|ppid| ppid == pid.to_string()))
        .collect();
    out.sort();
    out
}

fn is_zombie(pid: u32) -> bool {
    stat_field(pid, 0).is_some_and(|s| s == "Z")
}

/// Field `n` after the command name in `/proc/PID/stat` (0 = state,
/// 1 = parent pid).
fn stat_field(pid: u32, n: usize) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 2..];
    after_comm.split(' ').nth(n).map(str::to_owned)
}

fn run_status(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nspawn_boots_onto_the_bridge_without_machined() {
        let argv: Vec<String> = nspawn_argv(Path::new("/var/lib/machines/web"), "web", "nat0")
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert_eq!(
            argv,
            [
                "-b",
                "-D",
                "/var/lib/machines/web",
                "--machine=web",
                "--network-bridge=nat0",
                "--register=no",
                "--keep-unit",
                "--console=read-only"
            ]
        );
    }

    #[test]
    fn our_own_stat_reads() {
        let me = std::process::id();
        // The main thread waits for this test's thread: sleeping or running.
        let state = stat_field(me, 0).unwrap();
        assert!(["R", "S"].contains(&state.as_str()), "{state}");
        assert!(!is_zombie(me));
        let ppid = stat_field(me, 1).unwrap();
        assert_eq!(ppid, std::os::unix::process::parent_id().to_string());
    }
}
