//! Who listens on the bridge's service ports: `/proc/net/{udp,udp6,tcp,tcp6}`
//! of the calling namespace, with sockets mapped to processes through
//! `/proc/PID/fd`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use serde::Serialize;

/// A socket bound to a port we need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listener {
    /// `udp` or `tcp`.
    pub proto: &'static str,
    pub addr: IpAddr,
    pub port: u16,
    /// `pid/comm` of an owning process, when found.
    pub process: Option<String>,
    /// The socket inode, to find its process.
    #[serde(skip)]
    pub inode: u64,
}

/// TCP state `LISTEN` in `/proc/net/tcp`.
const TCP_LISTEN: &str = "0A";

/// Parses one `/proc/net/{udp,tcp}[6]` table: sockets on `ports`.
pub fn parse_table(text: &str, proto: &'static str, ports: &[u16]) -> Vec<Listener> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 {
            continue;
        }
        if proto == "tcp" && f[3] != TCP_LISTEN {
            continue;
        }
        let Some((addr, port)) = parse_endpoint(f[1]) else {
            continue;
        };
        if !ports.contains(&port) {
            continue;
        }
        out.push(Listener {
            proto,
            addr,
            port,
            process: None,
            inode: f[9].parse().unwrap_or(0),
        });
    }
    out
}

/// `0100007F:0035` → 127.0.0.1:53; IPv6 as four host-order 32-bit words.
fn parse_endpoint(s: &str) -> Option<(IpAddr, u16)> {
    let (a, p) = s.split_once(':')?;
    let port = u16::from_str_radix(p, 16).ok()?;
    let addr = match a.len() {
        8 => IpAddr::V4(Ipv4Addr::from(
            u32::from_str_radix(a, 16).ok()?.to_le_bytes(),
        )),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                let w = u32::from_str_radix(&a[i * 8..i * 8 + 8], 16).ok()?;
                bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some((addr, port))
}

/// Listeners on `ports` in this namespace, with their processes.
pub fn listeners(ports_udp: &[u16], ports_tcp: &[u16]) -> Vec<Listener> {
    let mut out = Vec::new();
    for (file, proto, ports) in [
        ("/proc/net/udp", "udp", ports_udp),
        ("/proc/net/udp6", "udp", ports_udp),
        ("/proc/net/tcp", "tcp", ports_tcp),
        ("/proc/net/tcp6", "tcp", ports_tcp),
    ] {
        if let Ok(text) = std::fs::read_to_string(file) {
            out.extend(parse_table(&text, proto, ports));
        }
    }
    let owners = socket_owners(Path::new("/proc"));
    for l in &mut out {
        l.process = owners.get(&l.inode).cloned();
    }
    out
}

/// socket inode → `pid/comm`, for every process we can read.
fn socket_owners(proc_root: &Path) -> HashMap<u64, String> {
    let mut map = HashMap::new();
    let Ok(dir) = std::fs::read_dir(proc_root) else {
        return map;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let comm = std::fs::read_to_string(entry.path().join("comm"))
            .map(|c| c.trim().to_string())
            .unwrap_or_default();
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let t = target.to_string_lossy();
            if let Some(inode) = t
                .strip_prefix("socket:[")
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|n| n.parse::<u64>().ok())
            {
                map.entry(inode).or_insert_with(|| format!("{pid}/{comm}"));
            }
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_udp_and_tcp_tables() {
        let udp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
           1: 011AA8C0:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 0\n\
           2: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4243 2 0000000000000000 0\n";
        let l = parse_table(udp, "udp", &[53, 67]);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].addr, "192.168.26.1".parse::<IpAddr>().unwrap());
        assert_eq!(l[0].port, 53);
        assert_eq!(l[0].inode, 4242);
        let tcp = "header\n   0: 00000000:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0 100 0 0 10 0\n   1: 0100007F:0035 0100007F:9999 01 00000000:00000000 00:00000000 00000000     0        0 78 1 0 100 0 0 10 0\n";
        let l = parse_table(tcp, "tcp", &[53]);
        assert_eq!(l.len(), 1, "only the listening socket");
        assert_eq!(l[0].addr, "0.0.0.0".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn parses_ipv6_endpoints() {
        // fd23::1 as /proc/net/udp6 prints it.
        let (a, p) = parse_endpoint("000023FD000000000000000001000000:0223").unwrap();
        assert_eq!(a, "fd23::1".parse::<IpAddr>().unwrap());
        assert_eq!(p, 547);
    }
}
