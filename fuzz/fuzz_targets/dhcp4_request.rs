//! The DHCPv4 request reader on arbitrary bytes: never a panic, and what it
//! accepts holds what the server relies on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netd_proto::dhcp4::leases::MAX_CLIENT_ID_LEN;
use netd_proto::dhcp4::request::Request;

fuzz_target!(|data: &[u8]| {
    let Ok(req) = Request::parse(data) else {
        return;
    };
    if let Some(name) = &req.hostname {
        assert!(!name.is_empty() && name.len() <= 63, "{name:?}");
        assert!(
            name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "{name:?}"
        );
        assert!(!name.starts_with('-') && !name.ends_with('-'), "{name:?}");
    }
    if let Some(id) = &req.client_id {
        assert!(!id.is_empty() && id.len() <= MAX_CLIENT_ID_LEN);
    }
});
