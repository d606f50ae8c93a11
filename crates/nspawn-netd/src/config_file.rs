//! The native configuration file: TOML whose keys are the daemon's long
//! option names, so a file and a command line say the same things the same
//! way (`interface = "nat0"`, `dhcp-range = ["192.168.26.20-100"]`,
//! `port = 53`, `log-dhcp = true`).
//!
//! A file is turned into `--key=value` arguments spliced where `--config`
//! stands on the command line, so the command-line parser validates it: an
//! unknown key is rejected by name, exactly like an unknown option.

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
    #[error("--config needs a file name")]
    MissingPath,
}

/// Replaces every `--config FILE` / `--config=FILE` in `argv` by the options
/// the file holds. The file name itself is kept (as `--config=FILE`) so the
/// parser sees it was given.
pub fn expand_config_args(argv: Vec<OsString>) -> Result<Vec<OsString>, ConfigFileError> {
    let mut out = Vec::with_capacity(argv.len());
    let mut iter = argv.into_iter();
    while let Some(arg) = iter.next() {
        let path = match arg.to_str() {
            Some("--config") => Some(
                iter.next()
                    .ok_or(ConfigFileError::MissingPath)?
                    .to_string_lossy()
                    .into_owned(),
            ),
            Some(s) if s.starts_with("--config=") => Some(s["--config=".len()..].to_owned()),
            Some("--") => {
                out.push(arg);
                out.extend(iter.by_ref());
                break;
            }
            _ => None,
        };
        match path {
            Some(path) => {
                let text =
                    std::fs::read_to_string(&path).map_err(|source| ConfigFileError::Read {
                        path: path.clone(),
                        source,
                    })?;
                out.push(OsString::from(format!("--config={path}")));
                out.extend(
                    toml_to_args(Path::new(&path), &text)?
                        .into_iter()
                        .map(OsString::from),
                );
            }
            None => out.push(arg),
        }
    }
    Ok(out)
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
    fn syntax_errors_name_the_file() {
        let err = toml_to_args(Path::new("bad.toml"), "interface = \n").unwrap_err();
        assert!(err.to_string().contains("bad.toml"));
    }
}
