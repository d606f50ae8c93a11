//! Every file shipped in `config/` parses: TOML and dnsmasq-style files
//! through the same path as `--config`/`--conf-file`, the systemd unit's
//! `ExecStart=` through the command line, `.nspawn` files as INI with the
//! bridge set. A file of another kind fails this test until it is covered.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use nspawn_netd::cli::Cli;
use nspawn_netd::settings;

fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

fn parse_args(args: Vec<String>) -> Result<Cli, String> {
    let argv: Vec<OsString> = std::iter::once("nspawn-netd".to_owned())
        .chain(args)
        .map(OsString::from)
        .collect();
    let loaded = settings::load(argv).map_err(|e| e.to_string())?;
    loaded
        .daemon_settings(&loaded.cli.daemon)
        .map_err(|e| e.to_string())?;
    Ok(loaded.cli)
}

/// `[Section]` / `key=value` lines, as systemd reads them.
fn ini(text: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.to_owned();
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("not key=value: {line:?}"));
        assert!(!section.is_empty(), "key outside a section: {line:?}");
        out.push((section.clone(), k.trim().to_owned(), v.trim().to_owned()));
    }
    out
}

fn check(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "toml" => parse_args(vec!["--config".into(), path.display().to_string()]).map(drop),
        "conf" => parse_args(vec!["--conf-file".into(), path.display().to_string()]).map(drop),
        "service" => {
            let entries = ini(&text);
            let exec = entries
                .iter()
                .find(|(s, k, _)| s == "Service" && k == "ExecStart")
                .ok_or("no ExecStart=")?;
            let mut words = exec.2.split_whitespace();
            let program = words.next().ok_or("empty ExecStart=")?;
            if !program.ends_with("/nspawn-netd") {
                return Err(format!("ExecStart runs {program}"));
            }
            parse_args(words.map(str::to_owned).collect()).map(drop)
        }
        "nspawn" => {
            let entries = ini(&text);
            entries
                .iter()
                .any(|(s, k, v)| s == "Network" && k == "Bridge" && !v.is_empty())
                .then_some(())
                .ok_or_else(|| "no [Network] Bridge=".to_owned())
        }
        other => Err(format!("no parser for .{other} files")),
    }
}

#[test]
fn every_shipped_config_file_parses() {
    let mut checked = 0;
    for entry in std::fs::read_dir(config_dir()).expect("config/ exists") {
        let path = entry.unwrap().path();
        if path.is_file() {
            check(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} files in config/");
}

/// The annotated TOML's commented-out examples (`# key = value`) are valid
/// settings too.
#[test]
fn the_commented_examples_in_the_toml_parse() {
    let text = std::fs::read_to_string(config_dir().join("nspawn-netd.toml")).unwrap();
    let examples: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| {
            l.split_once(" = ").is_some_and(|(k, _)| {
                !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
            })
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(examples.lines().count() >= 5, "{examples}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("examples.toml");
    std::fs::write(&path, &examples).unwrap();
    parse_args(vec!["--config".into(), path.display().to_string()])
        .unwrap_or_else(|e| panic!("{e}\n{examples}"));
}

#[test]
fn the_dnsmasq_file_means_what_the_seed_command_line_means() {
    let cli = parse_args(vec![
        "--conf-file".into(),
        config_dir().join("dnsmasq-nat0.conf").display().to_string(),
    ])
    .unwrap();
    let c = &cli.daemon.common;
    assert_eq!(c.interface, ["nat0"]);
    assert_eq!(
        c.dhcp_range,
        [settings::values::dhcp_range("192.168.26.20,192.168.26.100,12h").unwrap()]
    );
    assert_eq!(cli.daemon.dns.port, 53);
    assert!(c.bind_interfaces);
}
