//! The other words of a bootstrap request, checked before anything runs:
//! each ends up on a command line (debootstrap's) or in a file (the
//! `.nspawn` file), so a newline, a leading `-` or a space would change what
//! those read.

/// The kernel's `IFNAMSIZ` less the terminating NUL.
pub const IFNAME_MAX: usize = 15;
/// Longer than any release name an archive uses.
pub const SUITE_MAX: usize = 64;

/// Why a value cannot be used; `Display` says it to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInput {
    #[error("--bridge {0:?}: an interface name is 1 to {IFNAME_MAX} bytes")]
    BridgeLength(String),
    #[error(
        "--bridge {0:?}: an interface name has no '/', ':', whitespace or control characters, and is not \".\" or \"..\""
    )]
    BridgeChar(String),
    #[error(
        "--suite {0:?}: a release name is 1 to {SUITE_MAX} letters, digits, '-', '_' or '.', starting with a letter or digit"
    )]
    Suite(String),
    #[error("--mirror {0:?}: a URL has no whitespace or control characters")]
    Mirror(String),
}

/// A name the kernel takes for a network interface (`dev_valid_name()`).
pub fn validate_bridge(name: &str) -> Result<(), InvalidInput> {
    if name.is_empty() || name.len() > IFNAME_MAX {
        return Err(InvalidInput::BridgeLength(name.to_owned()));
    }
    let bad = |c: char| c == '/' || c == ':' || c.is_whitespace() || c.is_control();
    if name == "." || name == ".." || name.chars().any(bad) {
        return Err(InvalidInput::BridgeChar(name.to_owned()));
    }
    Ok(())
}

/// A release name as archives spell them (`bookworm`, `noble`,
/// `bookworm-backports`, `stable`).
pub fn validate_suite(suite: &str) -> Result<(), InvalidInput> {
    let ok = !suite.is_empty()
        && suite.len() <= SUITE_MAX
        && suite.starts_with(|c: char| c.is_ascii_alphanumeric())
        && suite
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(InvalidInput::Suite(suite.to_owned()))
    }
}

/// A mirror URL: one word of printable characters (the scheme is checked
/// where the bootstrap is planned).
pub fn validate_mirror(url: &str) -> Result<(), InvalidInput> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InvalidInput::Mirror(url.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_values_pass() {
        for b in ["nat0", "br-lab", "virbr0", "a", "x".repeat(15).as_str()] {
            assert_eq!(validate_bridge(b), Ok(()), "{b}");
        }
        for s in ["bookworm", "noble", "bookworm-backports", "stable", "22.04"] {
            assert_eq!(validate_suite(s), Ok(()), "{s}");
        }
        assert_eq!(validate_mirror("http://deb.example/debian"), Ok(()));
    }

    #[test]
    fn a_newline_or_an_option_never_passes() {
        for b in [
            "nat0\n[Exec]",
            "na t0",
            "a/b",
            "a:1",
            ".",
            "..",
            "",
            "x".repeat(16).as_str(),
        ] {
            assert!(validate_bridge(b).is_err(), "{b:?}");
        }
        for s in [
            "bookworm\n",
            "--foreign",
            "-x",
            "",
            "a b",
            "a/b",
            "x".repeat(65).as_str(),
        ] {
            assert!(validate_suite(s).is_err(), "{s:?}");
        }
        for m in ["http://a b", "http://a\n", "http://a\t"] {
            assert!(validate_mirror(m).is_err(), "{m:?}");
        }
    }

    #[test]
    fn errors_name_the_option_and_value() {
        let e = validate_bridge("nat0\nx").unwrap_err().to_string();
        assert!(e.starts_with("--bridge \"nat0\\nx\""), "{e}");
        let e = validate_suite("-x").unwrap_err().to_string();
        assert!(e.starts_with("--suite \"-x\""), "{e}");
    }
}
