//! Hosts files (`/etc/hosts`, `--addn-hosts`): `ADDRESS NAME [ALIAS...]`
//! lines, `#` comments. Parsing is pure; the shell reads the files.

use std::net::IpAddr;

use crate::names::NameTable;

/// Names and addresses from hosts files: the one name table type, filled
/// from files. The first name given for an address answers its PTR.
pub type Hosts = NameTable;

/// A line that could not be read, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct HostsLineError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl NameTable {
    /// Adds the entries of one file's `text`; bad lines are skipped and
    /// returned so the caller can report them.
    pub fn add_file(&mut self, file: &str, text: &str) -> Vec<HostsLineError> {
        let mut errors = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("");
            let mut fields = line.split_whitespace();
            let Some(addr) = fields.next() else { continue };
            // Zone indices (fe80::1%eth0) cannot be answered; skip them.
            let addr: IpAddr = match addr.parse() {
                Ok(a) => a,
                Err(_) => {
                    errors.push(HostsLineError {
                        file: file.into(),
                        line: n + 1,
                        message: format!("{addr:?} is not an IP address"),
                    });
                    continue;
                }
            };
            let mut any = false;
            for name in fields {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if name.is_empty() || name.len() > 253 {
                    continue;
                }
                any = true;
                self.add(&name, addr);
            }
            if !any {
                errors.push(HostsLineError {
                    file: file.into(),
                    line: n + 1,
                    message: format!("no name given for {addr}"),
                });
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_lines_with_aliases_comments_and_errors() {
        let mut h = Hosts::default();
        let errs = h.add_file(
            "/etc/hosts",
            "127.0.0.1 localhost\n::1 localhost ip6-localhost # v6\n\n# c\n10.0.0.5 DB.lan db\nbogus x\n10.0.0.6\n",
        );
        assert_eq!(errs.len(), 2);
        assert_eq!((errs[0].line, errs[1].line), (6, 7));
        assert_eq!(
            h.lookup("localhost"),
            Some(&["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()][..])
        );
        assert_eq!(h.lookup("db"), Some(&["10.0.0.5".parse().unwrap()][..]));
        assert_eq!(h.reverse(&"10.0.0.5".parse().unwrap()), Some("db.lan"));
    }

    #[test]
    fn expand_hosts_adds_the_domain_to_single_labels() {
        let mut h = Hosts::default();
        h.add_file("hosts", "10.0.0.5 db db.other\n10.0.0.6 web.lan\n");
        h.expand_single_labels("lan");
        assert_eq!(h.lookup("db.lan"), Some(&["10.0.0.5".parse().unwrap()][..]));
        assert_eq!(h.lookup("db.other.lan"), None);
        assert_eq!(h.lookup("web.lan.lan"), None);
        assert_eq!(h.reverse(&"10.0.0.5".parse().unwrap()), Some("db.lan"));
        assert_eq!(h.reverse(&"10.0.0.6".parse().unwrap()), Some("web.lan"));
    }
}
