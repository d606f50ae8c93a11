//! `--dhcp-option` and `--dhcp-option-force` values, dnsmasq's grammar:
//! `[tag:TAG,...][option:NAME|option6:NAME|option6:NUM|NUM][,VALUE...]`.
//!
//! The value is typed by the option (dnsmasq's name table, [`table`]); a
//! number dnsmasq has no name for takes addresses, hex bytes, a number or
//! text, whichever the value is. Everything not supported (`encap:`,
//! `vendor:`, `vi-encap:`, `set:`) is an error naming it.

mod table;
mod value;

use netd_proto::dhcp4::{Dhcp4Option, Tag, TagMatch};
use netd_proto::dhcp6::Dhcp6Option;
use thiserror::Error;

use table::Kind;

/// One `--dhcp-option`: DHCPv4 or DHCPv6.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DhcpOptionSpec {
    V4(Dhcp4Option),
    /// `option6:`; `force` is kept for the record: the stateless DHCPv6
    /// server sends every configured option to every client.
    V6 {
        option: Dhcp6Option,
        force: bool,
    },
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("--{flag}={value}: {reason}")]
pub struct OptionError {
    pub flag: &'static str,
    pub value: String,
    pub reason: String,
}

/// How a `--dhcp-optsfile` line is read: as a `--dhcp-option` value, for
/// DHCPv4 (the DHCPv6 options are not re-read).
pub fn file_line_parser() -> netd_serve::dhcp4::OptionParser {
    netd_serve::dhcp4::OptionParser(std::sync::Arc::new(|line: &str| {
        match parse_dhcp_option(line, false) {
            Ok(DhcpOptionSpec::V4(o)) => Ok(o),
            Ok(DhcpOptionSpec::V6 { .. }) => {
                Err("option6: is not supported in an options file; give it as --dhcp-option".into())
            }
            Err(e) => Err(e.reason),
        }
    }))
}

/// Parses one `--dhcp-option` (`force`: `--dhcp-option-force`) value.
pub fn parse_dhcp_option(value: &str, force: bool) -> Result<DhcpOptionSpec, OptionError> {
    let err = |reason: String| OptionError {
        flag: if force {
            "dhcp-option-force"
        } else {
            "dhcp-option"
        },
        value: value.to_owned(),
        reason,
    };
    let fields = value::split_fields(value);
    let mut tags = Vec::new();
    let mut rest = fields.as_slice();
    let option = loop {
        let Some((first, tail)) = rest.split_first() else {
            return Err(err("no option number or name".into()));
        };
        rest = tail;
        let word = first.trim();
        if let Some(t) = word
            .strip_prefix("tag:")
            .or_else(|| word.strip_prefix("net:"))
        {
            tags.push(tag_match(t).map_err(err)?);
            continue;
        }
        break word;
    };
    let value_fields: Vec<&str> = rest.iter().map(|f| f.trim()).collect();
    let (prefix, name) = option.split_once(':').unwrap_or(("", option));
    match prefix {
        "" => {
            let code: u8 = name.parse().map_err(|_| {
                err(format!(
                    "{name:?} is not an option number (0-255), option:NAME or option6:NAME"
                ))
            })?;
            v4(code, table::v4_by_code(code), &value_fields, force, tags).map_err(err)
        }
        "option" => {
            let (code, kind) = table::v4_by_name(name).ok_or_else(|| {
                err(format!(
                    "unknown option name {name:?} (`dnsmasq --help dhcp` lists the names)"
                ))
            })?;
            v4(code, Some(kind), &value_fields, force, tags).map_err(err)
        }
        "option6" => {
            if !tags.is_empty() {
                return Err(err("tags on DHCPv6 options are not supported".into()));
            }
            let (code, kind) = match name.parse::<u16>() {
                Ok(code) => (code, table::v6_by_code(code)),
                Err(_) => table::v6_by_name(name)
                    .map(|(c, k)| (c, Some(k)))
                    .ok_or_else(|| {
                        err(format!(
                            "unknown DHCPv6 option name {name:?} (`dnsmasq --help dhcp6` lists the names)"
                        ))
                    })?,
            };
            let value = value::v6(code, kind, &value_fields).map_err(err)?;
            Ok(DhcpOptionSpec::V6 {
                option: Dhcp6Option { code, value },
                force,
            })
        }
        "encap" | "vi-encap" | "vendor" | "set" => Err(err(format!("{prefix}: is not supported"))),
        other => Err(err(format!(
            "{other}: is not a known prefix (tag:, option:, option6:)"
        ))),
    }
}

fn tag_match(t: &str) -> Result<TagMatch, String> {
    let (negate, name) = match t.strip_prefix('!') {
        Some(n) => (true, n),
        None => (false, t),
    };
    if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == ':') {
        return Err(format!("{t:?} is not a tag name"));
    }
    let tag = Tag(name.to_owned());
    Ok(if negate {
        TagMatch::Not(tag)
    } else {
        TagMatch::Is(tag)
    })
}

fn v4(
    code: u8,
    kind: Option<Kind>,
    fields: &[&str],
    force: bool,
    tags: Vec<TagMatch>,
) -> Result<DhcpOptionSpec, String> {
    if let Some((_, why)) = table::V4_MANAGED.iter().find(|(c, _)| *c == code) {
        return Err(format!("option {code} cannot be configured: {why}"));
    }
    if let Some(Kind::Refused(why)) = kind {
        return Err(format!("option {code}: {why}"));
    }
    let value = value::v4(code, kind, fields)?;
    Ok(DhcpOptionSpec::V4(Dhcp4Option {
        code,
        value,
        force,
        tags,
    }))
}

#[cfg(test)]
mod tests;
