use super::*;
use crate::cli::Command;
use crate::settings;

/// `nspawn-netd ARGS` parsed as the program would; the daemon settings of
/// `up`.
fn up_settings(args: &[&str]) -> (UpArgs, DaemonSettings) {
    let argv = std::iter::once("nspawn-netd")
        .chain(args.iter().copied())
        .map(Into::into)
        .collect();
    let loaded = settings::load(argv).unwrap();
    let Some(Command::Up(up)) = &loaded.cli.command else {
        panic!("not up");
    };
    let s = loaded.daemon_settings(&up.daemon).unwrap();
    ((**up).clone(), s)
}

fn range_texts(s: &DaemonSettings) -> Vec<String> {
    let v4 = s.dhcp4.ranges.iter().map(|r| r.text.clone());
    v4.chain(s.ipv6.ranges.iter().map(|r| r.text.clone()))
        .collect()
}

#[test]
fn the_daemon_defaults_come_from_the_bridge() {
    let cfg = BridgeConfig::default_nat0();
    let (_, mut s) = up_settings(&["up"]);
    fill_from_bridge(&cfg, &mut s).unwrap();
    assert_eq!(s.interface.as_deref(), Some("nat0"));
    assert_eq!(
        range_texts(&s),
        [
            "192.168.26.20,192.168.26.100,12h",
            "fd23::/64,ra-stateless,ra-names"
        ]
    );
    assert_eq!(s.process.user, None, "up keeps root");
}

#[test]
fn given_daemon_options_win() {
    let mut cfg = BridgeConfig::default_nat0();
    cfg.ipv6 = None;
    let (_, mut s) = up_settings(&["up", "--interface=br9", "--dhcp-range=192.168.26.50-60"]);
    fill_from_bridge(&cfg, &mut s).unwrap();
    assert_eq!(s.interface.as_deref(), Some("br9"));
    assert_eq!(range_texts(&s), ["192.168.26.50-60"]);
}

#[test]
fn settings_come_from_flags_and_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("netd.toml");
    std::fs::write(
        &file,
        "bridge = \"br7\"\nipv4 = \"10.77.0.1/24\"\nno-ipv6 = true\n\
         teardown-on-exit = true\nallow-inbound = true\ndomain = \"box\"\n",
    )
    .unwrap();
    let (up, mut s) = up_settings(&[
        "up",
        "--config",
        file.to_str().unwrap(),
        "--state-dir",
        "/tmp/s",
    ]);
    let cfg = up.config();
    assert_eq!(cfg.name, "br7");
    assert_eq!(cfg.inbound, Inbound::Allow);
    assert_eq!(cfg.ipv4.to_string(), "10.77.0.1/24");
    assert_eq!(cfg.ipv6, None);
    assert!(up.teardown_on_exit);
    assert_eq!(up.bridge.state_dir, std::path::Path::new("/tmp/s"));
    assert_eq!(s.domain.as_deref(), Some("box"));
    fill_from_bridge(&cfg, &mut s).unwrap();
    assert_eq!(s.interface.as_deref(), Some("br7"));
    assert_eq!(range_texts(&s), ["10.77.0.20,10.77.0.100,12h"]);
}

#[test]
fn no_daemon_and_keep_in_foreground_are_the_daemon_flags() {
    let (up, _) = up_settings(&["up", "--no-daemon", "--keep-in-foreground"]);
    assert!(up.daemon.common.no_daemon && up.daemon.common.keep_in_foreground);
    assert_eq!(up.config(), BridgeConfig::default_nat0());
    assert_eq!(
        up.config().inbound,
        Inbound::Drop,
        "inbound is dropped by default"
    );
}

#[test]
fn a_small_subnet_needs_an_explicit_range() {
    let mut cfg = BridgeConfig::default_nat0();
    cfg.ipv4 = "10.0.0.1/28".parse().unwrap();
    let (_, mut s) = up_settings(&["up"]);
    assert!(fill_from_bridge(&cfg, &mut s).is_err());
}
