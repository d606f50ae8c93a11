//! Every system call of the container commands that needs `unsafe`, each
//! behind a safe function whose `SAFETY:` comment says why it is sound.
//! Nothing else in this crate writes `unsafe` (the crate denies it), and
//! the `nspawn-netd` command line calls these instead of `libc` (it has no
//! `unsafe` of its own).
//!
//! - processes: [`is_root`], [`send_signal`], [`signal_process_group`],
//!   [`new_session_on_spawn`], [`flag_on_signals`];
//! - files: [`detach_unmount`], [`set_xattr_nofollow`],
//!   [`get_xattr_nofollow`], [`ofd_write_lock_held`];
//! - [`random_bytes`], and [`EchoOff`] for reading a password.

use std::ffi::CString;
use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

/// The signals the container commands send or catch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Hup,
    Int,
    Term,
    Kill,
}

impl Signal {
    fn raw(self) -> libc::c_int {
        match self {
            Signal::Hup => libc::SIGHUP,
            Signal::Int => libc::SIGINT,
            Signal::Term => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        }
    }
}

/// Whether the effective user is root.
pub fn is_root() -> bool {
    // SAFETY: geteuid takes nothing, cannot fail and touches no memory of
    // ours.
    unsafe { libc::geteuid() == 0 }
}

/// A pid as `kill(2)` wants it, refusing what would not name exactly one
/// process or group: 0 (our own group), and values that turn negative
/// (-1 is every process we may signal).
fn positive_pid(pid: u32) -> io::Result<libc::pid_t> {
    match libc::pid_t::try_from(pid) {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(io::Error::from_raw_os_error(libc::EINVAL)),
    }
}

/// Sends `signal` to the process `pid`.
pub fn send_signal(pid: u32, signal: Signal) -> io::Result<()> {
    let pid = positive_pid(pid)?;
    // SAFETY: kill(2) passes no memory; `pid` is positive, so it names one
    // process and never a group or every process.
    if unsafe { libc::kill(pid, signal.raw()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sends `signal` to every process of the process group `pgid`.
pub fn signal_process_group(pgid: u32, signal: Signal) -> io::Result<()> {
    let pgid = positive_pid(pgid)?;
    // SAFETY: killpg(2) passes no memory; a positive `pgid` names one group
    // (0 would be our own).
    if unsafe { libc::killpg(pgid, signal.raw()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Makes the child of `cmd` start a new session (`setsid`), so that it has
/// no controlling terminal and outlives the terminal it was started from.
pub fn new_session_on_spawn(cmd: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec, where only
    // async-signal-safe calls are allowed: it calls setsid(2), which is,
    // and reads errno; it allocates nothing and takes no lock.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The flag [`flag_on_signals`] sets; one per process, as signal
/// dispositions are.
static SIGNALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn set_signalled(_: libc::c_int) {
    SIGNALLED.store(true, Ordering::SeqCst);
}

/// From now on `signals` no longer end the process but set the returned
/// flag, for a long job to notice, clean up and exit.
pub fn flag_on_signals(signals: &[Signal]) -> io::Result<&'static AtomicBool> {
    for signal in signals {
        if *signal == Signal::Kill {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SAFETY: an all-zero sigaction is a valid value (no flags, empty
        // mask, SIG_DFL) that is then filled in. The handler only stores to
        // an atomic, which is async-signal-safe, and is a plain `extern "C"`
        // function with the signature sa_handler wants (SA_SIGINFO unset).
        // `sa` outlives the call; the old action is not asked for.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = set_signalled as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut sa.sa_mask);
            if libc::sigaction(signal.raw(), &sa, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(&SIGNALLED)
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: NUL in path", path.display()),
        )
    })
}

fn c_name(name: &str) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in name"))
}

/// Detaches the mount at `path` (`umount2(MNT_DETACH)`): gone from the tree
/// at once, released when its last user goes.
pub fn detach_unmount(path: &Path) -> io::Result<()> {
    let c = c_path(path)?;
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets the extended attribute `name` of `path` itself (a symlink is not
/// followed) to `value`.
pub fn set_xattr_nofollow(path: &Path, name: &str, value: &[u8]) -> io::Result<()> {
    let (c_path, c_name) = (c_path(path)?, c_name(name)?);
    // SAFETY: both strings are NUL-terminated and outlive the call; the
    // pointer and length describe `value`, which the kernel only reads.
    let rc = unsafe {
        libc::lsetxattr(
            c_path.as_ptr(),
            c_name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reads the extended attribute `name` of `path` itself into `buf`; the
/// number of bytes read. No such attribute is `ENODATA`; `ERANGE` when it
/// does not fit.
pub fn get_xattr_nofollow(path: &Path, name: &str, buf: &mut [u8]) -> io::Result<usize> {
    let (c_path, c_name) = (c_path(path)?, c_name(name)?);
    // SAFETY: both strings are NUL-terminated and outlive the call; the
    // kernel writes at most `buf.len()` bytes to `buf`, which is ours and
    // writable for that long.
    let n = unsafe {
        libc::lgetxattr(
            c_path.as_ptr(),
            c_name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// Whether another open file description holds a record lock on `file`
/// that conflicts with a write lock on the whole file (`F_OFD_GETLK`, the
/// kind of lock systemd takes).
pub fn ofd_write_lock_held(file: &File) -> io::Result<bool> {
    // SAFETY: flock is plain data; all-zero is a valid value for it.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = libc::F_WRLCK as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    // l_start = 0, l_len = 0: the whole file.
    // SAFETY: the descriptor is open for the call (`file` is borrowed);
    // F_OFD_GETLK reads and writes the one flock `fl` points to, which is
    // ours and outlives the call.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_GETLK, &mut fl) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fl.l_type != libc::F_UNLCK as libc::c_short)
}

/// Fills `buf` from the kernel's random source (`getrandom`), blocking only
/// until it is seeded at boot.
pub fn random_bytes(buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        // SAFETY: the kernel writes at most `rest.len()` bytes to `rest`,
        // which is ours and writable for that long.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        filled += n as usize;
    }
    Ok(())
}

/// A terminal with echo off (newlines still echoed) until dropped, which
/// puts back the settings it found.
pub struct EchoOff<'a> {
    tty: BorrowedFd<'a>,
    saved: libc::termios,
}

impl fmt::Debug for EchoOff<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EchoOff").field("tty", &self.tty).finish()
    }
}

impl<'a> EchoOff<'a> {
    /// Turns echo off on `tty`; an error when it is not a terminal.
    pub fn new(tty: &'a impl AsFd) -> io::Result<EchoOff<'a>> {
        let tty = tty.as_fd();
        // SAFETY: termios is plain data; all-zero is a valid value, which
        // tcgetattr overwrites.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: the descriptor is open (borrowed for 'a); tcgetattr
        // writes one termios to `saved`, which is ours.
        if unsafe { libc::tcgetattr(tty.as_raw_fd(), &mut saved) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        quiet.c_lflag |= libc::ECHONL;
        // SAFETY: as above; tcsetattr only reads `quiet`.
        if unsafe { libc::tcsetattr(tty.as_raw_fd(), libc::TCSANOW, &quiet) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(EchoOff { tty, saved })
    }
}

impl Drop for EchoOff<'_> {
    fn drop(&mut self) {
        // SAFETY: the descriptor is still open (borrowed for 'a); tcsetattr
        // only reads `saved`, the settings tcgetattr returned.
        unsafe { libc::tcsetattr(self.tty.as_raw_fd(), libc::TCSANOW, &self.saved) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_never_reach_a_group_or_everyone_by_accident() {
        for pid in [0, u32::MAX, 1 << 31] {
            let err = send_signal(pid, Signal::Term).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{pid}");
            let err = signal_process_group(pid, Signal::Term).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{pid}");
        }
    }

    #[test]
    fn a_signal_reaches_a_child() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        send_signal(child.id(), Signal::Kill).unwrap();
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL));
    }

    #[test]
    fn random_bytes_fill_the_buffer() {
        let mut a = [0u8; 600];
        let mut b = [0u8; 600];
        random_bytes(&mut a).unwrap();
        random_bytes(&mut b).unwrap();
        assert_ne!(a, b);
        assert!(a[500..].iter().any(|&x| x != 0));
    }

    #[test]
    fn nul_in_a_path_is_an_error_not_a_truncation() {
        let err = detach_unmount(Path::new("/tmp/a\0b")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn echo_off_needs_a_terminal() {
        let file = tempfile::tempfile().unwrap();
        assert!(EchoOff::new(&file).is_err());
    }

    #[test]
    fn the_kill_signal_cannot_be_caught() {
        assert!(flag_on_signals(&[Signal::Kill]).is_err());
    }
}
