//! The dnsmasq-style file reader (`dnsmasq_lines`), then the whole settings
//! load on that text as a `--conf-file` and as a `--config` TOML file:
//! never a panic; a bad file is an error.
//!
//! Texts that name another configuration file (`conf-file`, `conf-dir`,
//! `config`) are only split into lines: following them would read files
//! of the machine's (`conf-file=/dev/zero` never ends).
#![no_main]

use std::cell::RefCell;
use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;

use libfuzzer_sys::fuzz_target;
use nspawn_netd::settings::{self, sources};

thread_local! {
    /// An unlinked file, named through /proc/self/fd: nothing is left on
    /// disk when the fuzzer stops.
    static FILE: RefCell<File> = RefCell::new(tempfile_in_memory());
}

fn tempfile_in_memory() -> File {
    tempfile::tempfile().expect("an unlinked temporary file")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut last = 0;
    for (key, value, line) in sources::dnsmasq_lines(text) {
        assert!(line > last, "line numbers go up");
        last = line;
        assert_eq!(key, key.trim());
        assert!(!key.starts_with('#'));
        if let Some(v) = value {
            assert_eq!(v, v.trim());
        }
    }
    if text.contains("conf") {
        return;
    }
    FILE.with(|f| {
        let mut f = f.borrow_mut();
        f.set_len(0).expect("truncate");
        std::io::Seek::rewind(&mut *f).expect("rewind");
        f.write_all(data).expect("write");
        let path = format!("/proc/self/fd/{}", f.as_raw_fd());
        for flag in ["--conf-file", "--config"] {
            let argv: Vec<OsString> = vec!["nspawn-netd".into(), format!("{flag}={path}").into()];
            let _ = settings::load(argv);
        }
    });
});
