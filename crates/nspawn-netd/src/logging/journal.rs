//! Whether stderr is connected to the journal: systemd sets
//! `JOURNAL_STREAM=DEVICE:INODE` for a service whose output goes there,
//! and a process checks that its stderr is still that stream (it may have
//! been redirected since), as sd_journal_stream_fd(3) describes.

use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

/// `JOURNAL_STREAM`'s value names the stream `(dev, ino)`.
pub(super) fn names_stream(value: &str, dev: u64, ino: u64) -> bool {
    let Some((d, i)) = value.split_once(':') else {
        return false;
    };
    d.parse::<u64>() == Ok(dev) && i.parse::<u64>() == Ok(ino)
}

/// True when stderr is the journal stream systemd gave this process.
pub(super) fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    let Ok(meta) = std::fs::File::from(fd).metadata() else {
        return false;
    };
    names_stream(&value.to_string_lossy(), meta.dev(), meta.ino())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_must_name_this_very_stream() {
        assert!(names_stream("8:12345", 8, 12345));
        assert!(!names_stream("8:12345", 8, 12346), "redirected since");
        assert!(!names_stream("8:12345", 9, 12345));
        assert!(!names_stream("", 8, 12345));
        assert!(!names_stream("8", 8, 12345));
        assert!(!names_stream("x:y", 8, 12345));
    }
}
