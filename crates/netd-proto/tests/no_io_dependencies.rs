//! The sans-IO invariant, enforced by Cargo: code can only use the crates its
//! manifest lists, so a core cannot open a socket, read a clock through a
//! runtime, or call the kernel if no such crate is listed. This test keeps
//! such crates out of `[dependencies]`.

/// Crates that would let the cores do I/O.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "tokio-util",
    "mio",
    "socket2",
    "libc",
    "nix",
    "rustix",
    "rtnetlink",
    "inotify",
    "futures",
    "async-std",
    "smol",
    "hickory-resolver",
];

#[test]
fn netd_proto_depends_on_no_runtime_socket_or_system_crate() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let mut section = "";
    let mut deps = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        if section == "[dependencies]" && !line.is_empty() && !line.starts_with('#') {
            let name = line.split(['=', '.', ' ']).next().unwrap_or_default();
            deps.push(name.to_owned());
        }
    }
    assert!(!deps.is_empty(), "no [dependencies] found");
    for dep in &deps {
        assert!(
            !FORBIDDEN.contains(&dep.as_str()) && !dep.starts_with("netlink"),
            "netd-proto must not depend on {dep}: the cores stay sans-IO"
        );
    }
}
