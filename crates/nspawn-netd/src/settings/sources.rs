//! The option sources, read once into one list of arguments, each with the
//! [`Origin`] it came from: the command line, dnsmasq-style files
//! (`--conf-file`, `-C`, `--conf-dir`, `-7`, `conf-file=` inside a file, and
//! `/etc/dnsmasq.conf` when the program runs as `dnsmasq`), and our TOML
//! (`--config`, whose keys are the long option names).
//!
//! A file's options take effect where the file is named: its lines are
//! spliced there, as `--key=value`. A key that is no option is an error
//! naming the file and line.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use netd_serve::settings::Origin;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SourceError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{origin}: {message}")]
    Line { origin: Origin, message: String },
    #[error("{0} needs a file name")]
    MissingPath(&'static str),
    #[error("configuration files include each other more than {MAX_DEPTH} deep (at {0})")]
    TooDeep(String),
}

/// How deep `conf-file=` lines may nest.
const MAX_DEPTH: usize = 8;

/// dnsmasq's own configuration file, read when the program runs as
/// `dnsmasq` and no `--conf-file` is given.
pub const DNSMASQ_CONF: &str = "/etc/dnsmasq.conf";

/// One argument and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub arg: OsString,
    pub origin: Origin,
}

impl Item {
    fn cli(arg: OsString) -> Item {
        Item {
            arg,
            origin: Origin::CommandLine,
        }
    }
}

/// The argument list the parser sees, built from `argv` and every file it
/// names. `known` lists the option names a file may use; `default_conf`
/// is read first when no `--conf-file` is on the command line.
pub fn expand(
    argv: Vec<OsString>,
    known: &[String],
    default_conf: Option<&Path>,
) -> Result<Vec<Item>, SourceError> {
    let mut out = Vec::with_capacity(argv.len());
    let names_conf_file = argv.iter().skip(1).any(|a| {
        a.to_str()
            .is_some_and(|s| s == "-C" || s.starts_with("--conf-file") || s.starts_with("-C"))
    });
    let mut iter = argv.into_iter().peekable();
    if let Some(program) = iter.next() {
        out.push(Item::cli(program));
    }
    if let Some(conf) = default_conf.filter(|_| !names_conf_file)
        && conf.exists()
    {
        out.extend(dnsmasq_file(known, conf, 0)?);
    }
    while let Some(arg) = iter.next() {
        let Some(s) = arg.to_str() else {
            out.push(Item::cli(arg));
            continue;
        };
        let (kind, inline) = match s {
            "--" => {
                out.push(Item::cli(arg));
                out.extend(iter.by_ref().map(Item::cli));
                break;
            }
            "--config" => (Kind::Toml, None),
            "--conf-file" | "-C" => (Kind::ConfFile, None),
            "--conf-dir" | "-7" => (Kind::ConfDir, None),
            _ if s.starts_with("--config=") => (Kind::Toml, Some(&s[9..])),
            _ if s.starts_with("--conf-file=") => (Kind::ConfFile, Some(&s[12..])),
            _ if s.starts_with("--conf-dir=") => (Kind::ConfDir, Some(&s[11..])),
            _ if s.starts_with("-C") => (Kind::ConfFile, Some(&s[2..])),
            _ if s.starts_with("-7") => (Kind::ConfDir, Some(&s[2..])),
            _ => {
                out.push(Item::cli(arg));
                continue;
            }
        };
        let value = match inline {
            Some(v) => v.to_owned(),
            // dnsmasq: `--conf-file` alone reads nothing; a file name
            // after it, as a separate word, is taken as its value.
            None if kind == Kind::ConfFile && s == "--conf-file" => {
                match iter.peek().and_then(|n| n.to_str()) {
                    Some(n) if !n.starts_with('-') => iter
                        .next()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    _ => String::new(),
                }
            }
            None => iter
                .next()
                .ok_or(SourceError::MissingPath(kind.flag()))?
                .to_string_lossy()
                .into_owned(),
        };
        out.push(Item::cli(OsString::from(format!(
            "{}={value}",
            kind.flag()
        ))));
        match kind {
            Kind::Toml => out.extend(toml_file(known, Path::new(&value))?),
            Kind::ConfFile if value.is_empty() => {}
            Kind::ConfFile => out.extend(dnsmasq_file(known, Path::new(&value), 0)?),
            Kind::ConfDir => out.extend(conf_dir(known, &value, 0)?),
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Our TOML (`--config`).
    Toml,
    /// dnsmasq's `option=value` lines (`--conf-file`, `-C`).
    ConfFile,
    /// A directory of those (`--conf-dir`, `-7`).
    ConfDir,
}

impl Kind {
    fn flag(self) -> &'static str {
        match self {
            Kind::Toml => "--config",
            Kind::ConfFile => "--conf-file",
            Kind::ConfDir => "--conf-dir",
        }
    }
}

fn read(path: &Path) -> Result<String, SourceError> {
    std::fs::read_to_string(path).map_err(|source| SourceError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn file_origin(path: &Path, line: usize) -> Origin {
    Origin::File {
        path: path.to_owned(),
        line,
    }
}

fn check_known(known: &[String], origin: &Origin, key: &str) -> Result<(), SourceError> {
    if known.iter().any(|k| k == key) {
        return Ok(());
    }
    Err(SourceError::Line {
        origin: origin.clone(),
        message: format!("unknown or unsupported option {key:?}"),
    })
}

/// A dnsmasq-style file, with `conf-file=` and `conf-dir=` lines followed.
fn dnsmasq_file(known: &[String], path: &Path, depth: usize) -> Result<Vec<Item>, SourceError> {
    if depth >= MAX_DEPTH {
        return Err(SourceError::TooDeep(path.display().to_string()));
    }
    let text = read(path)?;
    let mut items = Vec::new();
    for (key, value, line) in dnsmasq_lines(&text) {
        let origin = file_origin(path, line);
        match (key, value) {
            ("conf-file", Some(nested)) if !nested.is_empty() => {
                items.extend(dnsmasq_file(known, Path::new(nested), depth + 1)?);
                continue;
            }
            ("conf-file", _) => continue,
            ("conf-dir", Some(dir)) => {
                items.extend(conf_dir(known, dir, depth + 1)?);
                continue;
            }
            _ => {}
        }
        check_known(known, &origin, key)?;
        let arg = match value {
            Some(v) => format!("--{key}={v}"),
            None => format!("--{key}"),
        };
        items.push(Item {
            arg: arg.into(),
            origin,
        });
    }
    Ok(items)
}

/// `--conf-dir=DIR[,.ext…][,*.conf…]`, as dnsmasq reads it: every file of
/// DIR in name order, except those whose name ends in one of the `.ext`
/// suffixes, or, when `*.ext` patterns are given, only those matching one.
/// Names starting with `.`, ending with `~`, or starting and ending with
/// `#` (editors' files) are always skipped.
fn conf_dir(known: &[String], spec: &str, depth: usize) -> Result<Vec<Item>, SourceError> {
    let mut parts = spec.split(',').map(str::trim);
    let dir = parts.next().unwrap_or_default();
    let (mut include, mut exclude) = (Vec::new(), Vec::new());
    for p in parts.filter(|p| !p.is_empty()) {
        match p.strip_prefix('*') {
            Some(suffix) => include.push(suffix.to_owned()),
            None => exclude.push(p.to_owned()),
        }
    }
    let entries = std::fs::read_dir(dir).map_err(|source| SourceError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut names: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
        .map(|e| e.path())
        .filter(|p| {
            let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
                return false;
            };
            let editor = name.starts_with('.')
                || name.ends_with('~')
                || (name.len() > 1 && name.starts_with('#') && name.ends_with('#'));
            let excluded = exclude.iter().any(|x| name.ends_with(x.as_str()));
            let included = include.is_empty() || include.iter().any(|x| name.ends_with(x.as_str()));
            !editor && !excluded && included
        })
        .collect();
    names.sort();
    let mut items = Vec::new();
    for path in names {
        items.extend(dnsmasq_file(known, &path, depth)?);
    }
    Ok(items)
}

/// dnsmasq's file syntax: `option` or `option=value` a line, blank lines
/// and `#` comments ignored, surrounding blanks trimmed. Yields (key,
/// value, line number).
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

/// Our TOML file: `key = value`, `key = [values]`, `key = true`.
fn toml_file(known: &[String], path: &Path) -> Result<Vec<Item>, SourceError> {
    let text = read(path)?;
    let items = toml_items(path, &text)?;
    for item in &items {
        let arg = item.arg.to_string_lossy();
        let key = arg[2..].split('=').next().unwrap_or_default();
        check_known(known, &item.origin, key)?;
    }
    Ok(items)
}

/// Turns a TOML document into `--key=value` arguments, in file order, each
/// with the line of its key.
pub fn toml_items(path: &Path, text: &str) -> Result<Vec<Item>, SourceError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| SourceError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
    let mut items = Vec::new();
    for (key, value) in table {
        let origin = file_origin(path, key_line(text, &key));
        let bad = |message: String| SourceError::Line {
            origin: origin.clone(),
            message: format!("{key}: {message}"),
        };
        if key == "config" {
            return Err(bad("a config file cannot include another".into()));
        }
        let values = match value {
            toml::Value::Array(values) => values,
            other => vec![other],
        };
        for v in values {
            if let Some(arg) = scalar_arg(&key, v).map_err(bad)? {
                items.push(Item {
                    arg: arg.into(),
                    origin: origin.clone(),
                });
            }
        }
    }
    Ok(items)
}

/// The 1-based line where `key` is set (its first `key =` line).
fn key_line(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix('"').unwrap_or(l);
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start_matches('"').trim_start().starts_with('='))
        })
        .map_or(0, |i| i + 1)
}

fn scalar_arg(key: &str, value: toml::Value) -> Result<Option<String>, String> {
    Ok(match value {
        toml::Value::String(s) => Some(format!("--{key}={s}")),
        toml::Value::Integer(n) => Some(format!("--{key}={n}")),
        toml::Value::Boolean(true) => Some(format!("--{key}")),
        toml::Value::Boolean(false) => None,
        toml::Value::Float(_) | toml::Value::Datetime(_) => {
            return Err("must be a string, an integer, a boolean or an array of those".into());
        }
        toml::Value::Array(_) | toml::Value::Table(_) => {
            return Err("nested arrays and tables are not options; use `key = value`".into());
        }
    })
}

#[cfg(test)]
mod tests;
