//! The root password: a SHA-512 crypt hash (`$6$`, what glibc's `crypt()`
//! and `passwd` produce on current distributions) placed in the rootfs's
//! `/etc/shadow`. Pure: the salt and today's date are passed in.

use sha_crypt::{PasswordHasher, ShaCrypt};

/// Salt bytes per hash; 12 bytes encode to crypt's 16-character salt.
pub const SALT_LEN: usize = 12;

/// Why the shadow file could not be changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShadowError {
    #[error("/etc/shadow has no line for user {0}")]
    NoSuchUser(String),
    #[error("/etc/shadow line {0} has fewer than 3 fields")]
    Malformed(usize),
    #[error("the password is empty")]
    EmptyPassword,
    #[error("the password contains a newline or NUL")]
    BadPassword,
    #[error("hashing failed: {0}")]
    Hash(String),
}

/// `$6$rounds=5000$SALT$HASH` for `password` with `salt` (random bytes).
pub fn sha512_crypt(password: &str, salt: &[u8; SALT_LEN]) -> Result<String, ShadowError> {
    if password.is_empty() {
        return Err(ShadowError::EmptyPassword);
    }
    if password.contains(['\n', '\0']) {
        return Err(ShadowError::BadPassword);
    }
    ShaCrypt::SHA512
        .hash_password_with_salt(password.as_bytes(), salt)
        .map(|h| h.as_str().to_owned())
        .map_err(|e| ShadowError::Hash(e.to_string()))
}

/// `shadow` with `user`'s password field set to `hash` and its
/// last-change field to `days_since_epoch`; every other line and field is
/// kept byte for byte.
pub fn set_password(
    shadow: &str,
    user: &str,
    hash: &str,
    days_since_epoch: u64,
) -> Result<String, ShadowError> {
    let mut out = String::with_capacity(shadow.len() + hash.len());
    let mut found = false;
    for (i, line) in shadow.split_inclusive('\n').enumerate() {
        let body = line.trim_end_matches('\n');
        if body.split(':').next() != Some(user) || found {
            out.push_str(line);
            continue;
        }
        let mut fields: Vec<String> = body.split(':').map(str::to_owned).collect();
        if fields.len() < 3 {
            return Err(ShadowError::Malformed(i + 1));
        }
        fields[1] = hash.to_owned();
        fields[2] = days_since_epoch.to_string();
        out.push_str(&fields.join(":"));
        out.push('\n');
        found = true;
    }
    if !found {
        return Err(ShadowError::NoSuchUser(user.to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha_crypt::PasswordVerifier;

    const SHADOW: &str = "root:*:20786:0:99999:7:::\ndaemon:*:20786:0:99999:7:::\n";

    #[test]
    fn the_root_line_gets_the_hash_and_today() {
        let out = set_password(SHADOW, "root", "$6$s$h", 20800).unwrap();
        assert_eq!(
            out,
            "root:$6$s$h:20800:0:99999:7:::\ndaemon:*:20786:0:99999:7:::\n"
        );
        assert_eq!(
            set_password("daemon:*:1::::::", "root", "x", 1),
            Err(ShadowError::NoSuchUser("root".into()))
        );
        assert_eq!(
            set_password("root:*\n", "root", "x", 1),
            Err(ShadowError::Malformed(1))
        );
        // No trailing newline in the input: the line is still found.
        assert_eq!(
            set_password("root:*:1:0:::::", "root", "H", 2).unwrap(),
            "root:H:2:0:::::\n"
        );
    }

    #[test]
    fn the_hash_is_sha512_crypt_and_verifies() {
        let salt = *b"0123456789ab";
        let hash = sha512_crypt("correct horse", &salt).unwrap();
        assert!(hash.starts_with("$6$"), "{hash}");
        ShaCrypt::SHA512
            .verify_password(b"correct horse", hash.as_str())
            .unwrap();
        assert!(
            ShaCrypt::SHA512
                .verify_password(b"wrong", hash.as_str())
                .is_err()
        );
        assert_eq!(sha512_crypt("", &salt), Err(ShadowError::EmptyPassword));
        assert_eq!(sha512_crypt("a\nb", &salt), Err(ShadowError::BadPassword));
    }

    /// The hash must be what the C library's `crypt()` computes, since that
    /// is what `login` checks: compare with an independent implementation.
    #[test]
    fn the_hash_matches_openssl_passwd() {
        let salt = *b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c";
        let hash = sha512_crypt("s3cret pass", &salt).unwrap();
        // $6$rounds=5000$SALT$HASH: rounds=5000 is the default, which
        // openssl leaves out.
        let parts: Vec<&str> = hash.split('$').collect();
        assert_eq!(parts[..3], ["", "6", "rounds=5000"]);
        let out = std::process::Command::new("openssl")
            .args(["passwd", "-6", "-salt", parts[3], "s3cret pass"])
            .output()
            .expect("openssl is installed");
        assert!(out.status.success(), "{out:?}");
        let want = String::from_utf8(out.stdout).unwrap();
        assert_eq!(want.trim(), format!("$6${}${}", parts[3], parts[4]));
    }
}
