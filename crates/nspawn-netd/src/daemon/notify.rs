//! systemd's readiness protocol (`sd_notify`), spoken directly: a datagram to
//! `$NOTIFY_SOCKET` when it is set, nothing otherwise.

use std::os::unix::net::UnixDatagram;

fn send(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = UnixDatagram::unbound() else {
        return;
    };
    let bytes = path.as_encoded_bytes();
    let result = if let Some(abstract_name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(abstract_name)
            .and_then(|addr| sock.send_to_addr(state.as_bytes(), &addr))
    } else {
        sock.send_to(state.as_bytes(), &path)
    };
    if let Err(e) = result {
        tracing::warn!("sd_notify {state:?}: {e}");
    }
}

/// Every socket is bound.
pub(crate) fn ready() {
    send("READY=1");
}

pub(crate) fn stopping() {
    send("STOPPING=1");
}
