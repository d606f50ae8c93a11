//! Upstreams from resolv.conf text (`nameserver` lines), read with
//! hickory-resolver's parser. Pure: the shell reads and watches the file.

use std::net::SocketAddr;

use netd_proto::dns::config::DNS_PORT;

/// The nameservers named in `text`, in file order, port 53. A file without
/// any (or one that does not parse) gives an empty list.
pub(crate) fn nameservers(text: &[u8]) -> Vec<SocketAddr> {
    match hickory_resolver::system_conf::parse_resolv_conf(text) {
        Ok((config, _)) => {
            let mut out: Vec<SocketAddr> = Vec::new();
            for ns in config.name_servers() {
                let addr = SocketAddr::new(ns.ip, DNS_PORT);
                if !out.contains(&addr) {
                    out.push(addr);
                }
            }
            out
        }
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameservers_in_file_order() {
        let text = b"# generated\nsearch lan\nnameserver 203.0.113.2\nnameserver 2001:db8:1::2\noptions edns0\n";
        assert_eq!(
            nameservers(text),
            [
                "203.0.113.2:53".parse::<SocketAddr>().unwrap(),
                "[2001:db8:1::2]:53".parse().unwrap()
            ]
        );
        assert!(nameservers(b"search lan\n").is_empty());
        assert!(nameservers(b"").is_empty());
    }
}
