//! The native configuration file: TOML whose keys are the daemon's long
//! option names, so a file and a command line say the same things the same
//! way (`interface = "nat0"`, `dhcp-range = ["192.168.26.20-100"]`,
//! `port = 53`, `log-dhcp = true`).
//!
//! dnsmasq's own configuration files (`--conf-file=FILE`, `-C FILE`) are read
//! the same way: one `option` or `option=value` a line, `#` comments.
//!
//! A file is turned into `--key=value` arguments spliced where `--config` or
//! `--conf-file` stands on the command line, so the command-line parser
//! validates the values; a key that is no option is rejected here, with its
//! file and line.

use std::ffi::OsString;
use std::path::Path;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigFileError {
    #[error("reading config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("config file {path}: key {key:?}: {message}")]
    Value {
        path: String,
        key: String,
        message: String,
    },
    #[error("{path} line {line}: {message}")]
    Line {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{0} needs a file name")]
    MissingPath(&'static str),
    #[error("config files include each other more than {MAX_DEPTH} deep (at {0})")]
    TooDeep(String),
}

/// How deep `conf-file=` lines may nest.
const MAX_DEPTH: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Our TOML (`--config`).
    Toml,
    /// dnsmasq's `option=value` lines (`--conf-file`, `-C`).
    Dnsmasq,
}

/// Which option names a config file may use: the long names (and aliases)
/// of the daemon's options.
fn known_options() -> Vec<String> {
    use clap::CommandFactory;
    let cmd = crate::cli::Cli::command();
    cmd.get_arguments()
        .flat_map(|a| {
            a.get_long()
                .into_iter()
                .chain(a.get_all_aliases().unwrap_or_default())
                .map(str::to_owned)
        })
        .collect()
}

fn check_known(
    known: &[String],
    path: &str,
    line: usize,
    key: &str,
) -> Result<(), ConfigFileError> {
    if known.iter().any(|k| k == key) {
        return Ok(());
    }
    Err(ConfigFileError::Line {
        path: path.to_owned(),
        line,
        message: format!("unknown or unsupported option {key:?}"),
    })
}

/// Replaces every `--config FILE`, `--conf-file FILE` and `-C FILE` (also
/// written `--opt=FILE`) in `argv` by the options the file holds. The file
/// name itself is kept (as `--config=FILE` / `--conf-file=FILE`) so the
/// parser sees it was given.
pub fn expand_config_args(argv: Vec<OsString>) -> Result<Vec<OsString>, ConfigFileError> {
    let known = known_options();
    let mut out = Vec::with_capacity(argv.len());
    let mut iter = argv.into_iter();
    while let Some(arg) = iter.next() {
        let Some(s) = arg.to_str() else {
            out.push(arg);
            continue;
        };
        let (format, flag, inline) = match s {
            "--" => {
                out.push(arg);
                out.extend(iter.by_ref());
                break;
            }
            "--config" => (Format::Toml, "--config", None),
            "--conf-file" | "-C" => (Format::Dnsmasq, "--conf-file", None),
            _ if s.starts_with("--config=") => (Format::Toml, "--config", Some(&s[9..])),
            _ if s.starts_with("--conf-file=") => (Format::Dnsmasq, "--conf-file", Some(&s[12..])),
            _ => {
                out.push(arg);
                continue;
            }
        };
        let path = match inline {
            Some(p) => p.to_owned(),
            None => iter
                .next()
                .ok_or(ConfigFileError::MissingPath(flag))?
                .to_string_lossy()
                .into_owned(),
        };
        out.push(OsString::from(format!("{flag}={path}")));
        let args = match format {
            Format::Toml => toml_file_args(&known, &path)?,
            Format::Dnsmasq => dnsmasq_file_args(&known, &path, 0)?,
        };
        out.extend(args.into_iter().map(OsString::from));
    }
    Ok(out)
}

fn read(path: &str) -> Result<String, ConfigFileError> {
    std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
        path: path.to_owned(),
        source,
    })
}

fn toml_file_args(known: &[String], path: &str) -> Result<Vec<String>, ConfigFileError> {
    let args = toml_to_args(Path::new(path), &read(path)?)?;
    for arg in &args {
        let key = arg[2..].split('=').next().unwrap_or_default();
        if !known.iter().any(|k| k == key) {
            return Err(ConfigFileError::Value {
                path: path.to_owned(),
                key: key.to_owned(),
                message: "unknown or unsupported option".into(),
            });
        }
    }
    Ok(args)
}

fn dnsmasq_file_args(
    known: &[String],
    path: &str,
    depth: usize,
) -> Result<Vec<String>, ConfigFileError> {
    if depth >= MAX_DEPTH {
        return Err(ConfigFileError::TooDeep(path.to_owned()));
    }
    let text = read(path)?;
    let mut args = Vec::new();
    for (key, value, line) in dnsmasq_lines(&text) {
        if key == "conf-file" {
            let nested = value.ok_or_else(|| ConfigFileError::Line {
                path: path.to_owned(),
                line,
                message: "conf-file needs a file name".into(),
            })?;
            args.extend(dnsmasq_file_args(known, nested, depth + 1)?);
            continue;
        }
        check_known(known, path, line, key)?;
        args.push(match value {
            Some(v) => format!("--{key}={v}"),
            None => format!("--{key}"),
        });
    }
    Ok(args)
}

/// dnsmasq's file syntax: `option` or `option=value` a line, blank lines and
/// `#` comments ignored, surrounding blanks trimmed. Yields (key, value,
/// line number).
pub fn dnsmasq_lines(text: &str) -> impl Iterator<Item = (&str, Option<&str>, usize)> {
    text.lines().enumerate().filter_map(|(i, raw)| {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        Some(match line.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim()), i + 1),
            None => (line, None, i + 1),
        })
    })
}

/// Turns a TOML document into `--key=value` arguments, in file order.
pub fn toml_to_args(path: &Path, text: &str) -> Result<Vec<String>, ConfigFileError> {
    let p = || path.display().to_string();
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigFileError::Parse {
            path: p(),
            message: e.to_string(),
        })?;
    let mut args = Vec::new();
    for (key, value) in table {
        if key == "config" {
            return Err(ConfigFileError::Value {
                path: p(),
                key,
                message: "a config file cannot include another".into(),
            });
        }
        match value {
            toml::Value::Array(items) => {
                for item in items {
                    push_scalar(&mut args, &key, item).map_err(|message| {
                        ConfigFileError::Value {
                            path: p(),
                            key: key.clone(),
                            message,
                        }
                    })?;
                }
            }
            other => {
                push_scalar(&mut args, &key, other).map_err(|message| ConfigFileError::Value {
                    path: p(),
                    key: key.clone(),
                    message,
                })?
            }
        }
    }
    Ok(args)
}

fn push_scalar(args: &mut Vec<String>, key: &str, value: toml::Value) -> Result<(), String> {
    match value {
        toml::Value::String(s) => args.push(format!("--{key}={s}")),
        toml::Value::Integer(n) => args.push(format!("--{key}={n}")),
        toml::Value::Boolean(true) => args.push(format!("--{key}")),
        toml::Value::Boolean(false) => {}
        toml::Value::Float(_) | toml::Value::Datetime(_) => {
            return Err("must be a string, an integer, a boolean or an array of those".into());
        }
        toml::Value::Array(_) | toml::Value::Table(_) => {
            return Err("nested arrays and tables are not options; use `key = value`".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_options_in_order() {
        let args = toml_to_args(
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
            args,
            [
                "--interface=nat0",
                "--dhcp-range=192.168.26.20-100",
                "--port=53",
                "--log-dhcp"
            ]
        );
    }

    #[test]
    fn a_table_is_rejected_with_its_key_and_file() {
        let err = toml_to_args(Path::new("x.toml"), "[dhcp]\nrange = 1\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("x.toml") && msg.contains("dhcp"), "{msg}");
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
        std::fs::write(&path, "interface=nat0\ndhcp-script=/bin/true\n").unwrap();
        let argv = ["nspawn-netd", "-C", path.to_str().unwrap()].map(OsString::from);
        let err = expand_config_args(argv.to_vec()).unwrap_err().to_string();
        assert!(
            err.contains("x.conf line 2") && err.contains("dhcp-script"),
            "{err}"
        );
    }

    #[test]
    fn files_are_spliced_where_they_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("a.toml");
        std::fs::write(&toml, "port = 5353\n").unwrap();
        let argv = [
            "nspawn-netd",
            "--port=1",
            "--config",
            toml.to_str().unwrap(),
            "-k",
        ];
        let out = expand_config_args(argv.map(OsString::from).to_vec()).unwrap();
        let out: Vec<_> = out.iter().map(|s| s.to_str().unwrap()).collect();
        let cfg = format!("--config={}", toml.display());
        assert_eq!(
            out,
            ["nspawn-netd", "--port=1", cfg.as_str(), "--port=5353", "-k"]
        );
    }

    #[test]
    fn syntax_errors_name_the_file() {
        let err = toml_to_args(Path::new("bad.toml"), "interface = \n").unwrap_err();
        assert!(err.to_string().contains("bad.toml"));
    }
}
