//! `nspawn-netd completions SHELL` and `nspawn-netd man`: both generated
//! from the clap definitions the program parses with (clap_complete,
//! clap_mangen), so they list exactly the options and subcommands it has.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, CommandFactory, ValueEnum};

use crate::cli::Cli;

/// The name the scripts and the page are for: the installed binary's.
const BIN: &str = "nspawn-netd";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// Write nspawn-netd.1 and one page per subcommand
    /// (nspawn-netd-status.1, ...) into DIR, instead of printing
    /// nspawn-netd(1).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The command as the page and the scripts describe it.
pub fn command() -> clap::Command {
    Cli::command()
        .bin_name(BIN)
        .version(env!("CARGO_PKG_VERSION"))
}

/// The completion script for `shell`.
pub fn completion_script(shell: CompletionShell) -> Vec<u8> {
    let generator = match shell {
        CompletionShell::Bash => clap_complete::Shell::Bash,
        CompletionShell::Zsh => clap_complete::Shell::Zsh,
        CompletionShell::Fish => clap_complete::Shell::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(generator, &mut command(), BIN, &mut out);
    if shell == CompletionShell::Bash {
        out = fix_bash_hyphenated_name(out);
    }
    out
}

/// clap_complete's bash script spells the state of a subcommand of a
/// hyphenated binary two ways (clap-rs/clap#6421): the loop that walks the
/// words arrives at `nspawn__netd__subcmd__status`, the arms are labelled
/// `nspawn__subcmd__netd__subcmd__status`, so no subcommand's options
/// would ever complete. The arms get the loop's spelling.
fn fix_bash_hyphenated_name(script: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8_lossy(&script);
    let escaped = BIN.replace('-', "__");
    let wrong = BIN.replace('-', "__subcmd__");
    text.replace(
        &format!("{wrong}__subcmd__"),
        &format!("{escaped}__subcmd__"),
    )
    .into_bytes()
}

/// nspawn-netd(1) as roff.
pub fn man_page() -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command())
        .render(&mut out)
        .context("rendering the manual page")?;
    Ok(out)
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<()> {
    std::io::stdout()
        .write_all(&completion_script(args.shell))
        .context("writing the completion script")
}

pub fn man(args: ManArgs) -> anyhow::Result<()> {
    match args.dir {
        None => std::io::stdout()
            .write_all(&man_page()?)
            .context("writing the manual page"),
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("making {}", dir.display()))?;
            clap_mangen::generate_to(command(), &dir)
                .with_context(|| format!("writing the manual pages into {}", dir.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bash_script_completes_every_subcommand() {
        let script = String::from_utf8(completion_script(CompletionShell::Bash)).unwrap();
        assert!(
            script.contains("complete -F _nspawn__netd"),
            "no complete line"
        );
        for sub in ["status", "leases", "completions", "man", "up", "container"] {
            assert!(script.contains(sub), "{sub} missing");
        }
        assert!(script.contains("--metrics-listen"));
        assert!(
            script.contains("        nspawn__netd__subcmd__status)"),
            "the status arm is spelt as the loop spells it"
        );
        assert!(!script.contains("nspawn__subcmd__netd"));
    }

    #[test]
    fn zsh_and_fish_scripts_name_the_program() {
        for shell in [CompletionShell::Zsh, CompletionShell::Fish] {
            let script = String::from_utf8(completion_script(shell)).unwrap();
            assert!(script.contains("nspawn-netd"), "{shell:?}");
            assert!(script.contains("control-dir"), "{shell:?}");
        }
    }

    #[test]
    fn the_man_page_is_roff_with_the_options() {
        let page = String::from_utf8(man_page().unwrap()).unwrap();
        assert!(
            page.starts_with(".ie") || page.contains(".TH nspawn-netd 1"),
            "{}",
            &page[..200.min(page.len())]
        );
        assert!(page.contains(".TH nspawn-netd 1"));
        assert!(page.contains(".SH SUBCOMMANDS") || page.contains("status"));
        assert!(page.contains("dhcp\\-range"));
    }
}
