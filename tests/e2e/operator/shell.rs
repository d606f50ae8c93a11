//! Shell integration: the bash completion script works in bash, and the
//! manual page renders.

use std::process::Command;

use netd_testkit::lab::Lab;

use super::{netd_cmd, text};

/// What bash completes for `words` (the last being the one under the
/// cursor) with `script` sourced.
fn complete(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cur = words.last().unwrap();
    let prev = words[words.len() - 2];
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _nspawn__netd nspawn-netd '{cur}' '{prev}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1
    );
    let out = Command::new("bash")
        .args(["-c", &program])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn completions_bash_completes_subcommands_and_their_options() {
    let lab = Lab::new();
    let out = netd_cmd(&lab, &["completions", "bash"]);
    assert!(out.status.success(), "{}", text(&out));
    let script = lab.dir().join("nspawn-netd.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    assert_eq!(complete(&script, &["nspawn-netd", "sta"]), ["status"]);
    assert_eq!(
        complete(&script, &["nspawn-netd", "status", "--js"]),
        ["--json"]
    );
    assert_eq!(
        complete(&script, &["nspawn-netd", "completions", "z"]),
        ["zsh"]
    );
    assert!(
        complete(&script, &["nspawn-netd", "--metrics-l"]).contains(&"--metrics-listen".to_owned())
    );
    for shell in ["zsh", "fish"] {
        let out = netd_cmd(&lab, &["completions", shell]);
        assert!(
            out.status.success() && !out.stdout.is_empty(),
            "{}",
            text(&out)
        );
    }
    let out = netd_cmd(&lab, &["completions", "tcsh"]);
    assert!(!out.status.success());
}

#[test]
fn man_produces_a_roff_page_that_man_renders() {
    let lab = Lab::new();
    let out = netd_cmd(&lab, &["man"]);
    assert!(out.status.success(), "{}", text(&out));
    let page = lab.dir().join("nspawn-netd.1");
    std::fs::write(&page, &out.stdout).unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(".TH nspawn-netd 1"));
    // Plain text: no overstriking for bold (-P-cbou).
    let rendered = Command::new("groff")
        .args(["-man", "-Tutf8", "-P-cbou"])
        .arg(&page)
        .output()
        .expect("groff (groff-base)");
    assert!(rendered.status.success(), "{}", text(&rendered));
    let shown = String::from_utf8_lossy(&rendered.stdout);
    for want in [
        "NAME",
        "SYNOPSIS",
        "nspawn-netd",
        "--dhcp-range",
        "--metrics-listen",
    ] {
        // groff may set a hyphen as U+2010.
        let plain = shown.replace('\u{2010}', "-");
        assert!(plain.contains(want), "{want} not in:\n{shown}");
    }
    // One page per subcommand into a directory, for packaging.
    let dir = lab.dir().join("man1");
    let out = netd_cmd(&lab, &["man", "--dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    for name in [
        "nspawn-netd.1",
        "nspawn-netd-status.1",
        "nspawn-netd-leases.1",
    ] {
        assert!(dir.join(name).exists(), "{name} missing");
    }
}
