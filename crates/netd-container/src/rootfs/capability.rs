//! File capabilities: `cap_net_raw` on `ping` so that users other than root
//! can ping inside the container (Arch's `ping` ships without it when the
//! package is installed by pacstrap). Written as the `security.capability`
//! extended attribute the kernel reads (`struct vfs_cap_data`, revision 2),
//! the same bytes `setcap cap_net_raw+ep` writes.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::sys;

/// The extended attribute holding file capabilities.
pub const XATTR_NAME_CAPS: &str = "security.capability";
/// `VFS_CAP_REVISION_2`: two 32-bit words per set (64 capabilities).
pub const VFS_CAP_REVISION_2: u32 = 0x0200_0000;
/// `VFS_CAP_FLAGS_EFFECTIVE`: permitted capabilities become effective on exec.
pub const VFS_CAP_FLAGS_EFFECTIVE: u32 = 0x0000_0001;
/// `CAP_NET_RAW` from `<linux/capability.h>`.
pub const CAP_NET_RAW: u32 = 13;
/// `XATTR_CAPS_SZ_2`: magic word plus two (permitted, inheritable) pairs.
pub const XATTR_CAPS_SZ_2: usize = 20;

/// The `security.capability` value granting `caps` in the permitted set,
/// effective on exec, none inheritable (little-endian, as the kernel stores
/// it).
pub fn vfs_cap_data(caps: &[u32]) -> [u8; XATTR_CAPS_SZ_2] {
    let mut permitted = [0u32; 2];
    for &cap in caps {
        permitted[(cap / 32) as usize] |= 1 << (cap % 32);
    }
    let words = [
        VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
        permitted[0],
        0, // inheritable, low word
        permitted[1],
        0, // inheritable, high word
    ];
    let mut out = [0u8; XATTR_CAPS_SZ_2];
    for (chunk, word) in out.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// What [`grant_net_raw`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingCaps {
    /// There is no such file.
    Missing,
    /// It is set-uid or already carries file capabilities: left alone.
    AlreadyPrivileged,
    /// `cap_net_raw+ep` was written.
    Granted,
}

/// Gives `path` (already resolved, no symlink) `cap_net_raw+ep` unless it is
/// set-uid or has file capabilities already.
pub fn grant_net_raw(path: &Path) -> io::Result<PingCaps> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(PingCaps::Missing),
        Err(e) => return Err(e),
    };
    if !meta.file_type().is_file() {
        return Ok(PingCaps::Missing);
    }
    if meta.permissions().mode() & 0o4000 != 0 || read_caps(path)?.is_some() {
        return Ok(PingCaps::AlreadyPrivileged);
    }
    sys::set_xattr_nofollow(path, XATTR_NAME_CAPS, &vfs_cap_data(&[CAP_NET_RAW]))?;
    Ok(PingCaps::Granted)
}

/// The raw `security.capability` value of `path`, if it has one.
pub fn read_caps(path: &Path) -> io::Result<Option<Vec<u8>>> {
    // Larger than any revision of vfs_cap_data (revision 3 is 24 bytes).
    let mut buf = [0u8; 64];
    match sys::get_xattr_nofollow(path, XATTR_NAME_CAPS, &mut buf) {
        Ok(n) => Ok(Some(buf[..n].to_vec())),
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENODATA) | Some(libc::ENOTSUP)) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `setcap cap_net_raw+ep FILE` writes (libcap, revision 2).
    const SETCAP_NET_RAW_EP: [u8; 20] = [
        0x01, 0x00, 0x00, 0x02, // magic: revision 2 | effective
        0x00, 0x20, 0x00, 0x00, // permitted[0]: 1 << 13
        0x00, 0x00, 0x00, 0x00, // inheritable[0]
        0x00, 0x00, 0x00, 0x00, // permitted[1]
        0x00, 0x00, 0x00, 0x00, // inheritable[1]
    ];

    #[test]
    fn net_raw_encodes_like_setcap() {
        assert_eq!(vfs_cap_data(&[CAP_NET_RAW]), SETCAP_NET_RAW_EP);
        // A capability above 31 lands in the second permitted word.
        let cap_bpf = vfs_cap_data(&[39]);
        assert_eq!(&cap_bpf[12..16], &(1u32 << 7).to_le_bytes());
    }

    #[test]
    fn grants_once_and_leaves_setuid_files_alone() {
        let dir = tempfile::tempdir().unwrap();
        let ping = dir.path().join("ping");
        assert_eq!(grant_net_raw(&ping).unwrap(), PingCaps::Missing);
        std::fs::write(&ping, b"\x7fELF").unwrap();
        match grant_net_raw(&ping) {
            Ok(PingCaps::Granted) => {
                assert_eq!(read_caps(&ping).unwrap().unwrap(), SETCAP_NET_RAW_EP);
                assert_eq!(grant_net_raw(&ping).unwrap(), PingCaps::AlreadyPrivileged);
            }
            // Without CAP_SETFCAP, or on a file system without security
            // xattrs, the kernel refuses; the encoding is tested above.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::ENOTSUP)) => {
                assert!(!sys::is_root(), "root must be able to set caps: {e}");
            }
            other => panic!("{other:?}"),
        }
        let suid = dir.path().join("suid");
        std::fs::write(&suid, b"x").unwrap();
        std::fs::set_permissions(&suid, std::fs::Permissions::from_mode(0o4755)).unwrap();
        assert_eq!(grant_net_raw(&suid).unwrap(), PingCaps::AlreadyPrivileged);
        assert_eq!(read_caps(&suid).unwrap(), None);
    }
}
