//! The state file: round trips, and what a tampered or planted file cannot
//! make `up` or `down` do.

use super::*;

#[test]
fn a_watcher_mark_names_this_process_and_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    let mark = WatcherMark::create(dir.path(), "nat0").unwrap();
    let text = std::fs::read_to_string(dir.path().join("nat0.up.pid")).unwrap();
    assert_eq!(text.trim(), std::process::id().to_string());
    // This test process is not nspawn-netd: not a running watcher.
    assert_eq!(running_watcher(dir.path(), "nat0"), None);
    drop(mark);
    assert!(!dir.path().join("nat0.up.pid").exists());
}

#[test]
fn round_trips_and_keeps_the_first_old_value() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SavedState {
        bridge: "nat0".into(),
        created_bridge: true,
        ..SavedState::default()
    };
    s.record_sysctl(SysctlChange {
        key: "net/ipv4/conf/all/forwarding".into(),
        old: "0".into(),
        new: "1".into(),
    });
    s.record_sysctl(SysctlChange {
        key: "net/ipv4/conf/all/forwarding".into(),
        old: "1".into(),
        new: "1".into(),
    });
    save(dir.path(), &s).unwrap();
    let back = load(dir.path(), "nat0").unwrap().unwrap();
    assert_eq!(back, s);
    assert_eq!(back.sysctls.len(), 1);
    assert_eq!(back.sysctls[0].old, "0");
    remove(dir.path(), "nat0").unwrap();
    assert!(load(dir.path(), "nat0").unwrap().is_none());
}

fn state_with_key(key: &str) -> String {
    serde_json::json!({
        "bridge": "nat0",
        "created_bridge": false,
        "added_addresses": [],
        "brought_up": false,
        "sysctls": [
            {"key": "net/ipv4/conf/all/forwarding", "old": "0", "new": "1"},
            {"key": key, "old": "0", "new": "1"},
        ],
        "table": true,
        "resolved": false,
    })
    .to_string()
}

/// `down` writes each recorded sysctl's old value back: a state file
/// naming any key `up` does not write would make it write anywhere under
/// /proc/sys (or, with `..` or an absolute path, anywhere at all).
#[test]
fn a_tampered_state_file_naming_another_sysctl_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for key in [
        "kernel/core_pattern",
        "net/ipv4/ip_forward",
        "net/ipv4/conf/all/rp_filter",
        "net/ipv4/conf/all/accept_ra",
        "net/ipv6/conf/all/accept_ra",
        "net/ipv4/conf/../../../kernel/core_pattern/forwarding",
        "net/ipv4/conf/a/b/forwarding",
        "/etc/passwd",
        "net/ipv6/conf/eth0/forwarding/../../../../../../etc/shadow",
        "",
    ] {
        std::fs::write(dir.path().join("nat0.json"), state_with_key(key)).unwrap();
        let err = load(dir.path(), "nat0").expect_err(key);
        assert!(err.to_string().contains("sysctl"), "{key}: {err}");
    }
    for key in [
        "net/ipv6/conf/default/forwarding",
        "net/ipv4/conf/eth0.100/forwarding",
        "net/ipv6/conf/wlp3s0/accept_ra",
    ] {
        std::fs::write(dir.path().join("nat0.json"), state_with_key(key)).unwrap();
        let st = load(dir.path(), "nat0").unwrap().unwrap();
        assert_eq!(st.sysctls[1].key, key);
    }
}

/// The old value is written back as is: it must look like what the
/// kernel gave us (a small number), not an arbitrary string.
#[test]
fn a_recorded_value_that_is_not_a_number_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = state_with_key("net/ipv4/conf/default/forwarding").replace("\"0\"", "\"1\\n2\"");
    std::fs::write(dir.path().join("nat0.json"), text).unwrap();
    assert!(load(dir.path(), "nat0").is_err());
}

/// `down` deletes the bridge a state file names: `nat0.json` naming
/// `eth0` must not make `down --bridge nat0` delete eth0.
#[test]
fn a_state_file_naming_another_bridge_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = state_with_key("net/ipv4/conf/default/forwarding").replace("nat0", "eth0");
    std::fs::write(dir.path().join("nat0.json"), text).unwrap();
    let err = load(dir.path(), "nat0").unwrap_err();
    assert!(err.to_string().contains("eth0"), "{err}");
}

/// The temporary name `save` used was predictable (`nat0.json.tmp`) and
/// followed links: a link planted there redirected the write.
#[test]
fn links_planted_in_the_state_directory_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    for name in ["nat0.json.tmp", "nat0.up.pid"] {
        std::os::unix::fs::symlink(&victim, state.join(name)).unwrap();
    }
    let s = SavedState {
        bridge: "nat0".into(),
        ..SavedState::default()
    };
    save(&state, &s).unwrap();
    let mark = WatcherMark::create(&state, "nat0").unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    drop(mark);
    // A link in place of the state file itself is not read through.
    std::fs::remove_file(state.join("nat0.json")).unwrap();
    std::fs::write(dir.path().join("elsewhere.json"), state_with_key("x")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("elsewhere.json"), state.join("nat0.json")).unwrap();
    let err = load(&state, "nat0").unwrap_err();
    assert!(err.to_string().contains("nat0.json"), "{err}");
}

/// A state directory someone else may write to is refused: anyone could
/// plant or swap the files `down` trusts.
#[test]
fn a_state_directory_others_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    let s = SavedState {
        bridge: "nat0".into(),
        ..SavedState::default()
    };
    let err = save(&state, &s).unwrap_err();
    assert!(err.to_string().contains("writable"), "{err}");
    assert!(load(&state, "nat0").is_err());
    assert!(WatcherMark::create(&state, "nat0").is_err());
    // A link in place of the directory is refused too.
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(dir.path(), &link).unwrap();
    assert!(save(&link, &s).is_err());
}
