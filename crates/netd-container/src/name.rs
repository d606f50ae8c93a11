//! Machine names, checked by the rules `machinectl` and `systemd-nspawn`
//! apply (systemd's `hostname_is_valid()`): dot-separated labels of ASCII
//! letters, digits and `-`, no label empty or starting or ending with `-`,
//! at most 64 characters (the kernel's `HOST_NAME_MAX`). `.host` names the
//! host itself, so it is never a container's name.

/// The kernel's `HOST_NAME_MAX`: the longest name `sethostname()` takes.
pub const HOST_NAME_MAX: usize = 64;

/// Why a name cannot name a machine; `Display` says it to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidName {
    #[error("the machine name is empty")]
    Empty,
    #[error("\"{0}\" is longer than {HOST_NAME_MAX} characters")]
    TooLong(String),
    #[error("\".host\" names the host itself, not a container")]
    Host,
    #[error(
        "\"{name}\" has '{ch}' at position {pos}: machine names are letters, digits, '-' and '.'"
    )]
    BadChar { name: String, ch: char, pos: usize },
    #[error("\"{0}\" has an empty label (a leading, trailing or doubled '.')")]
    EmptyLabel(String),
    #[error("\"{0}\" has a label that starts or ends with '-'")]
    Hyphen(String),
}

/// Checks `name` as `machinectl` would, and also refuses `.host`.
pub fn validate_machine_name(name: &str) -> Result<(), InvalidName> {
    if name.is_empty() {
        return Err(InvalidName::Empty);
    }
    if name == ".host" {
        return Err(InvalidName::Host);
    }
    for (pos, ch) in name.chars().enumerate() {
        if !(ch.is_ascii_alphanumeric() || ch == '-' || ch == '.') {
            return Err(InvalidName::BadChar {
                name: name.to_owned(),
                ch,
                pos: pos + 1,
            });
        }
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(InvalidName::EmptyLabel(name.to_owned()));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(InvalidName::Hyphen(name.to_owned()));
        }
    }
    if name.len() > HOST_NAME_MAX {
        return Err(InvalidName::TooLong(name.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_names() {
        for name in ["web", "web-1", "a", "Deb12", "db.lan", "1", "a-b-c.d-e"] {
            assert_eq!(validate_machine_name(name), Ok(()), "{name}");
        }
        assert_eq!(validate_machine_name(&"a".repeat(64)), Ok(()));
    }

    #[test]
    fn bad_names_say_why() {
        assert_eq!(validate_machine_name(""), Err(InvalidName::Empty));
        assert_eq!(validate_machine_name(".host"), Err(InvalidName::Host));
        assert!(matches!(
            validate_machine_name(&"a".repeat(65)),
            Err(InvalidName::TooLong(_))
        ));
        for (name, ch) in [("web_1", '_'), ("we b", ' '), ("a/b", '/'), ("é", 'é')] {
            match validate_machine_name(name) {
                Err(InvalidName::BadChar { ch: got, .. }) => assert_eq!(got, ch, "{name}"),
                other => panic!("{name}: {other:?}"),
            }
        }
        for name in [".web", "web.", "a..b", "."] {
            assert!(
                matches!(validate_machine_name(name), Err(InvalidName::EmptyLabel(_))),
                "{name}"
            );
        }
        for name in ["-web", "web-", "a.-b", "a-.b"] {
            assert!(
                matches!(validate_machine_name(name), Err(InvalidName::Hyphen(_))),
                "{name}"
            );
        }
        let msg = validate_machine_name("web_1").unwrap_err().to_string();
        assert!(msg.contains("'_'") && msg.contains("position 4"), "{msg}");
    }
}
