//! `configure` on a small fake rootfs in a temporary directory.

use std::os::unix::fs::{MetadataExt, symlink};
use std::path::Path;

use sha_crypt::{PasswordVerifier, ShaCrypt};

use super::*;

/// A rootfs laid out as debootstrap leaves Debian: merged /usr, stock
/// host0 file (optional), shadow, ping, and a resolv.conf symlink pointing
/// at an absolute path (which must not be followed to the host).
fn fake_rootfs(stock_host0: bool) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    for dir in [
        "usr/lib/systemd/system",
        "usr/lib/systemd/network",
        "usr/bin",
        "etc",
    ] {
        std::fs::create_dir_all(r.join(dir)).unwrap();
    }
    symlink("usr/lib", r.join("lib")).unwrap();
    symlink("usr/bin", r.join("bin")).unwrap();
    let units = r.join("usr/lib/systemd/system");
    std::fs::write(
        units.join("systemd-networkd.service"),
        "[Install]\nWantedBy=multi-user.target\nAlso=systemd-networkd.socket\n",
    )
    .unwrap();
    std::fs::write(
        units.join("systemd-networkd.socket"),
        "[Install]\nWantedBy=sockets.target\n",
    )
    .unwrap();
    if stock_host0 {
        std::fs::write(
            r.join("usr/lib/systemd/network/80-container-host0.network"),
            "[Match]\nName=host0\n",
        )
        .unwrap();
    }
    std::fs::write(
        r.join("etc/shadow"),
        "root:*:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n",
    )
    .unwrap();
    std::fs::write(r.join("usr/bin/ping"), b"\x7fELF").unwrap();
    symlink(
        "/run/systemd/resolve/stub-resolv.conf",
        r.join("etc/resolv.conf"),
    )
    .unwrap();
    std::fs::write(r.join("etc/hostname"), "buildhost\n").unwrap();
    root
}

fn config(hash: Option<String>) -> RootfsConfig {
    RootfsConfig {
        name: "web".into(),
        dns: vec!["192.168.26.1".parse().unwrap()],
        root_password_hash: hash,
        today: 20800,
    }
}

#[test]
fn a_debian_like_rootfs_is_set_up_for_a_networked_boot() {
    let root = fake_rootfs(true);
    let r = root.path();
    let hash = shadow::sha512_crypt("pw", b"saltsaltsalt").unwrap();
    let report = configure(r, &config(Some(hash))).unwrap();

    assert_eq!(
        report.enabled,
        [
            Path::new("etc/systemd/system/multi-user.target.wants/systemd-networkd.service"),
            Path::new("etc/systemd/system/sockets.target.wants/systemd-networkd.socket"),
        ]
    );
    assert_eq!(
        std::fs::read_link(
            r.join("etc/systemd/system/sockets.target.wants/systemd-networkd.socket")
        )
        .unwrap(),
        Path::new("/usr/lib/systemd/system/systemd-networkd.socket")
    );
    assert!(report.stock_host0_network);
    assert!(!r.join(network::HOST0_NETWORK).exists());

    assert_eq!(
        std::fs::read_to_string(r.join("etc/hostname")).unwrap(),
        "web\n"
    );
    let resolv = r.join("etc/resolv.conf");
    assert!(
        !std::fs::symlink_metadata(&resolv)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&resolv)
            .unwrap()
            .contains("\nnameserver 192.168.26.1\n")
    );
    assert!(
        std::fs::read_to_string(r.join("etc/hosts"))
            .unwrap()
            .contains("127.0.1.1\tweb")
    );

    let shadow = std::fs::read_to_string(r.join("etc/shadow")).unwrap();
    let root_line = shadow.lines().next().unwrap();
    let fields: Vec<&str> = root_line.split(':').collect();
    assert_eq!(fields[0], "root");
    assert_eq!(fields[2], "20800");
    ShaCrypt::SHA512.verify_password(b"pw", fields[1]).unwrap();
    assert!(ShaCrypt::SHA512.verify_password(b"pw2", fields[1]).is_err());
    assert_eq!(shadow.lines().nth(1), Some("bin:*:19000:0:99999:7:::"));
    assert_eq!(
        std::fs::metadata(r.join("etc/shadow")).unwrap().mode() & 0o777,
        0o640
    );
    assert!(report.root_password_set);

    // Root can always write security.* xattrs on the usual temp file systems.
    if crate::sys::is_root() {
        assert_eq!(report.ping, PingCaps::Granted);
        assert_eq!(
            capability::read_caps(&r.join("usr/bin/ping"))
                .unwrap()
                .unwrap(),
            capability::vfs_cap_data(&[capability::CAP_NET_RAW])
        );
    }
}

#[test]
fn without_a_stock_host0_file_ours_is_written_and_the_password_is_left_alone() {
    let root = fake_rootfs(false);
    let r = root.path();
    let report = configure(r, &config(None)).unwrap();
    assert!(!report.stock_host0_network);
    let text = std::fs::read_to_string(r.join(network::HOST0_NETWORK)).unwrap();
    assert_eq!(text, network::host0_network());
    assert!(!report.root_password_set);
    assert!(
        std::fs::read_to_string(r.join("etc/shadow"))
            .unwrap()
            .starts_with("root:*:19000:")
    );
}

#[test]
fn a_rootfs_without_networkd_is_an_error_naming_it() {
    let root = fake_rootfs(true);
    std::fs::remove_file(
        root.path()
            .join("usr/lib/systemd/system/systemd-networkd.service"),
    )
    .unwrap();
    let err = configure(root.path(), &config(None)).unwrap_err();
    assert!(
        err.to_string().contains("systemd-networkd.service"),
        "{err}"
    );
}
