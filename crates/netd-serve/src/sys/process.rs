//! Process-level system calls: fork, the session, standard streams, users
//! and groups, and capabilities. Each is called while the process still
//! has one thread (the daemon forks and drops privileges before it starts
//! any other), which is what makes `fork` and the per-thread `capset`
//! sound; callers check [`thread_count`] first.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, RawFd};

/// `fork(2)`: `Some(pid)` in the parent, `None` in the child.
pub(crate) fn fork() -> io::Result<Option<libc::pid_t>> {
    // SAFETY: the caller has checked that this process runs one thread, so
    // the child inherits no lock held by another thread; the child goes on
    // with ordinary Rust code, as the parent would.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        pid => Ok(Some(pid)),
    }
}

/// `setsid(2)`: a new session without a controlling terminal.
pub(crate) fn setsid() -> io::Result<()> {
    // SAFETY: no arguments, no memory touched.
    if unsafe { libc::setsid() } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `dup2(from, to)`.
pub(crate) fn dup2(from: RawFd, to: RawFd) -> io::Result<()> {
    // SAFETY: dup2 only changes the descriptor table; `to` is replaced
    // atomically, and the callers own both numbers (standard streams).
    if unsafe { libc::dup2(from, to) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Closes every descriptor from `first` up.
pub(crate) fn close_from(first: RawFd) -> io::Result<()> {
    // SAFETY: called in a freshly forked child that owns no Rust object
    // holding one of these descriptors beyond those below `first`.
    if unsafe { libc::close_range(first as u32, u32::MAX, 0) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Points standard input, output and error at /dev/null.
pub(crate) fn stdio_to_dev_null() -> io::Result<()> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    for fd in 0..3 {
        dup2(null.as_raw_fd(), fd)?;
    }
    Ok(())
}

/// `waitpid(pid, 0)`: reaps a child, returning its exit code.
pub(crate) fn wait(pid: libc::pid_t) -> io::Result<i32> {
    let mut status = 0;
    // SAFETY: `status` is a live c_int the kernel writes.
    if unsafe { libc::waitpid(pid, &mut status, 0) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    })
}

/// `_exit(2)`: ends a forked child without running the parent's exit
/// handlers or flushing buffers it shares with the parent.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no memory.
    unsafe { libc::_exit(code) }
}

pub(crate) fn geteuid() -> u32 {
    // SAFETY: no arguments.
    unsafe { libc::geteuid() }
}

pub(crate) fn getuid() -> u32 {
    // SAFETY: no arguments.
    unsafe { libc::getuid() }
}

/// A user's uid and primary gid (`getpwnam_r`).
pub(crate) fn user(name: &str) -> io::Result<Option<(u32, u32)>> {
    let cname = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: passwd is plain data; all-zero is valid.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is to a live buffer of the size given; the
    // strings getpwnam_r points `pw` at live in `buf`, which we do not read.
    let rc = unsafe {
        libc::getpwnam_r(
            cname.as_ptr(),
            &mut pw,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok((!result.is_null()).then_some((pw.pw_uid, pw.pw_gid)))
}

/// A group's gid (`getgrnam_r`).
pub(crate) fn group(name: &str) -> io::Result<Option<u32>> {
    let cname = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut buf = vec![0 as libc::c_char; 64 * 1024];
    // SAFETY: group is plain data; all-zero is valid.
    let mut gr: libc::group = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::group = std::ptr::null_mut();
    // SAFETY: as for getpwnam_r.
    let rc = unsafe {
        libc::getgrnam_r(
            cname.as_ptr(),
            &mut gr,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok((!result.is_null()).then_some(gr.gr_gid))
}

/// Becomes `uid`/`gid` with only `gid` as supplementary group, keeping the
/// permitted capabilities across the switch (`PR_SET_KEEPCAPS`) so that
/// [`set_capabilities`] can keep some of them.
pub(crate) fn switch_user(uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) } == -1 {
        return Err(io::Error::last_os_error());
    }
    let groups = [gid];
    // SAFETY: a live array of one gid. glibc applies setgroups, setgid and
    // setuid to every thread of the process.
    if unsafe { libc::setgroups(1, groups.as_ptr()) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: integer arguments only.
    if unsafe { libc::setgid(gid) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: integer arguments only.
    if unsafe { libc::setuid(uid) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `capset(2)`: the effective and permitted sets become exactly `caps` (a
/// bit per capability number, all below 64), the inheritable set empty.
/// Per thread: the caller runs one thread.
pub(crate) fn set_capabilities(caps: u64) -> io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    /// `_LINUX_CAPABILITY_VERSION_3`: two `Data`, capabilities 0-63.
    const VERSION_3: u32 = 0x2008_0522;
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let low = caps as u32;
    let high = (caps >> 32) as u32;
    let data = [
        Data {
            effective: low,
            permitted: low,
            inheritable: 0,
        },
        Data {
            effective: high,
            permitted: high,
            inheritable: 0,
        },
    ];
    // SAFETY: the header and the two-element data array the version-3 ABI
    // expects, both live for the call; the kernel only reads them.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The process's threads, from /proc/self/status.
pub(crate) fn thread_count() -> io::Result<usize> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| io::Error::other("no Threads: line in /proc/self/status"))
}

/// `fchown(2)`.
pub(crate) fn fchown(fd: RawFd, uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: integer arguments only; `fd` is the caller's open file.
    if unsafe { libc::fchown(fd, uid, gid) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Takes ownership of descriptor `fd` as a Unix stream. Only for a freshly
/// forked child that has just moved its end of a socket pair to `fd` with
/// [`dup2`] and owns no other object holding that number.
pub(crate) fn adopt_stream(fd: RawFd) -> std::os::unix::net::UnixStream {
    use std::os::fd::FromRawFd;
    // SAFETY: per the contract above, `fd` is open and has no other owner
    // in this process; the UnixStream becomes its only owner.
    unsafe { std::os::unix::net::UnixStream::from_raw_fd(fd) }
}

/// `getrlimit(RLIMIT_NOFILE)`: the soft and hard limits on open files.
pub(crate) fn nofile_limits() -> io::Result<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a live rlimit the kernel writes.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok((lim.rlim_cur, lim.rlim_max))
}

/// `setrlimit(RLIMIT_NOFILE)` with the soft limit raised to `soft` and the
/// hard limit kept at `hard`.
pub(crate) fn set_nofile_limit(soft: u64, hard: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: `lim` is a live rlimit the kernel only reads.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
