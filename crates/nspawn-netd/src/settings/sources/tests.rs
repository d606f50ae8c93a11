use super::*;

fn known() -> Vec<String> {
    [
        "interface",
        "port",
        "dhcp-range",
        "log-dhcp",
        "bind-interfaces",
        "domain",
    ]
    .map(String::from)
    .to_vec()
}

fn args(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|i| i.arg.to_string_lossy().into_owned())
        .collect()
}

fn argv(a: &[&str]) -> Vec<OsString> {
    std::iter::once("nspawn-netd")
        .chain(a.iter().copied())
        .map(OsString::from)
        .collect()
}

#[test]
fn toml_keys_become_options_in_order_with_their_lines() {
    let items = toml_items(
        Path::new("x.toml"),
        r#"
interface = "nat0"
dhcp-range = ["192.168.26.20-100"]
port = 53
log-dhcp = true
bind-interfaces = false
"#,
    )
    .unwrap();
    assert_eq!(
        args(&items),
        [
            "--interface=nat0",
            "--dhcp-range=192.168.26.20-100",
            "--port=53",
            "--log-dhcp"
        ]
    );
    assert_eq!(items[2].origin, file_origin(Path::new("x.toml"), 4));
}

#[test]
fn a_toml_table_is_rejected_with_its_key_and_file() {
    let err = toml_items(Path::new("x.toml"), "[dhcp]\nrange = 1\n").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("x.toml") && msg.contains("dhcp"), "{msg}");
    let err = toml_items(Path::new("bad.toml"), "interface = \n").unwrap_err();
    assert!(err.to_string().contains("bad.toml"));
}

#[test]
fn dnsmasq_lines_skip_comments_and_split_values() {
    let lines: Vec<_> = dnsmasq_lines("# c\n\ninterface=nat0\n  bind-interfaces \n").collect();
    assert_eq!(
        lines,
        [("interface", Some("nat0"), 3), ("bind-interfaces", None, 4)]
    );
}

#[test]
fn an_unknown_dnsmasq_option_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.conf");
    std::fs::write(&path, "interface=nat0\ndhcp-luascript=/bin/true\n").unwrap();
    let err = expand(argv(&["-C", path.to_str().unwrap()]), &known(), None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("{}:2", path.display())) && err.contains("dhcp-luascript"),
        "{err}"
    );
}

#[test]
fn files_are_spliced_where_they_are_named_with_their_origin() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("a.toml");
    std::fs::write(&toml, "port = 5353\n").unwrap();
    let items = expand(
        argv(&["--port=1", "--config", toml.to_str().unwrap(), "-k"]),
        &known(),
        None,
    )
    .unwrap();
    let cfg = format!("--config={}", toml.display());
    assert_eq!(
        args(&items),
        ["nspawn-netd", "--port=1", cfg.as_str(), "--port=5353", "-k"]
    );
    assert_eq!(items[3].origin, file_origin(&toml, 1));
    assert_eq!(items[1].origin, Origin::CommandLine);
}

#[test]
fn conf_file_without_a_value_or_dev_null_reads_nothing() {
    let items = expand(argv(&["--conf-file", "--port=1"]), &known(), None).unwrap();
    assert_eq!(args(&items), ["nspawn-netd", "--conf-file=", "--port=1"]);
    let items = expand(argv(&["--conf-file=/dev/null"]), &known(), None).unwrap();
    assert_eq!(args(&items), ["nspawn-netd", "--conf-file=/dev/null"]);
}

#[test]
fn conf_file_lines_nest() {
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("inner.conf");
    std::fs::write(&inner, "port=7\n").unwrap();
    let outer = dir.path().join("outer.conf");
    std::fs::write(
        &outer,
        format!("interface=nat0\nconf-file={}\n", inner.display()),
    )
    .unwrap();
    let items = expand(
        argv(&[&format!("--conf-file={}", outer.display())]),
        &known(),
        None,
    )
    .unwrap();
    assert_eq!(args(&items)[2..], ["--interface=nat0", "--port=7"]);
    assert_eq!(items[3].origin, file_origin(&inner, 1));
}

#[test]
fn conf_dir_filters_as_dnsmasq_does() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("b.conf", "port=2\n"),
        ("a.conf", "port=1\n"),
        ("c.dpkg-old", "port=3\n"),
        ("d.conf~", "port=4\n"),
        (".hidden", "port=5\n"),
        ("#e#", "port=6\n"),
        ("f.other", "port=7\n"),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let d = dir.path().display();
    let ports = |spec: String| -> Vec<String> {
        args(&expand(argv(&[&spec]), &known(), None).unwrap())[2..].to_vec()
    };
    assert_eq!(
        ports(format!("--conf-dir={d},.dpkg-old")),
        ["--port=1", "--port=2", "--port=7"]
    );
    assert_eq!(
        ports(format!("--conf-dir={d},*.conf")),
        ["--port=1", "--port=2"]
    );
    assert_eq!(
        ports(format!("-7{d},.dpkg-old,.other")),
        ["--port=1", "--port=2"]
    );
}

#[test]
fn the_default_file_is_read_unless_a_conf_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("dnsmasq.conf");
    std::fs::write(&conf, "port=9\n").unwrap();
    let items = expand(argv(&["-k"]), &known(), Some(&conf)).unwrap();
    assert_eq!(args(&items), ["nspawn-netd", "--port=9", "-k"]);
    let items = expand(argv(&["--conf-file=/dev/null"]), &known(), Some(&conf)).unwrap();
    assert_eq!(args(&items), ["nspawn-netd", "--conf-file=/dev/null"]);
    let missing = dir.path().join("missing.conf");
    assert_eq!(
        expand(argv(&[]), &known(), Some(&missing)).unwrap().len(),
        1
    );
}
