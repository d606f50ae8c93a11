//! Root's password for `container create`: read from a file or asked for
//! on the terminal, then hashed with a fresh random salt.

use std::io::{BufRead, Write};

use anyhow::{Context, bail};
use netd_container::rootfs::shadow;
use netd_container::sys;

use super::CreateArgs;

/// The password the user gave, if any (`--root-password-file` or
/// `--root-password-prompt`). Asked before anything is made.
pub(super) fn read(args: &CreateArgs) -> anyhow::Result<Option<String>> {
    if let Some(file) = &args.root_password_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading --root-password-file {}", file.display()))?;
        let line = text.lines().next().unwrap_or_default().to_owned();
        if line.is_empty() {
            bail!(
                "--root-password-file {}: the first line is empty",
                file.display()
            );
        }
        return Ok(Some(line));
    }
    if !args.root_password_prompt {
        return Ok(None);
    }
    let first = prompt_hidden("root password: ")?;
    let second = prompt_hidden("again: ")?;
    if first != second {
        bail!("the passwords differ");
    }
    if first.is_empty() {
        bail!("the password is empty");
    }
    Ok(Some(first))
}

/// `password`'s SHA-512 crypt hash with a random salt.
pub(super) fn hash(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; shadow::SALT_LEN];
    sys::random_bytes(&mut salt).context("getrandom")?;
    Ok(shadow::sha512_crypt(password, &salt)?)
}

/// Reads a line from the terminal with echo off.
fn prompt_hidden(prompt: &str) -> anyhow::Result<String> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .context("--root-password-prompt needs a terminal")?;
    let quiet = sys::EchoOff::new(&tty).context("turning the terminal's echo off")?;
    let mut out = &tty;
    let _ = write!(out, "{prompt}");
    let mut line = String::new();
    let read = std::io::BufReader::new(&tty).read_line(&mut line);
    drop(quiet);
    read.context("reading the password")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}
