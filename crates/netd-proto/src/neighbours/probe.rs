//! The echo requests that verify a neighbour: each unicast probe carries a
//! fresh 64-bit nonce, and only a reply that carries it back verifies the
//! address. A neighbour solicitation with a forged source makes the kernel
//! note an address under some MAC, but the probe to that address goes to
//! that MAC, and a host that does not own the address drops it; an
//! attacker elsewhere on the bridge never sees the nonce it would have to
//! echo.

/// ICMPv6 Echo Request and Echo Reply (RFC 4443 4.1, 4.2).
pub const ECHO_REQUEST: u8 = 128;
pub const ECHO_REPLY: u8 = 129;
/// The identifier of our probes ("nd").
const IDENTIFIER: [u8; 2] = [0x6e, 0x64];
const TAG: &[u8] = b"nspawn-netd ra-names";

/// An Echo Request carrying `nonce`; the kernel fills in the checksum.
pub fn echo_request(seq: u16, nonce: u64) -> Vec<u8> {
    let mut m = vec![ECHO_REQUEST, 0, 0, 0, IDENTIFIER[0], IDENTIFIER[1]];
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&nonce.to_be_bytes());
    m.extend_from_slice(TAG);
    m
}

/// The nonce of an Echo Reply to one of our probes; `None` for anything
/// else (another type, another identifier, a short or altered payload).
pub fn echo_reply_nonce(icmp: &[u8]) -> Option<u64> {
    if icmp.len() != 16 + TAG.len()
        || icmp[0] != ECHO_REPLY
        || icmp[1] != 0
        || icmp[4..6] != IDENTIFIER
        || &icmp[16..] != TAG
    {
        return None;
    }
    Some(u64::from_be_bytes(icmp[8..16].try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_gives_back_the_requests_nonce() {
        let mut m = echo_request(7, 0x0123_4567_89ab_cdef);
        assert_eq!(m[0], ECHO_REQUEST);
        assert_eq!(echo_reply_nonce(&m), None, "a request is no reply");
        m[0] = ECHO_REPLY;
        assert_eq!(echo_reply_nonce(&m), Some(0x0123_4567_89ab_cdef));
    }

    #[test]
    fn anything_else_is_no_reply_of_ours() {
        let mut m = echo_request(1, 5);
        m[0] = ECHO_REPLY;
        for bad in [
            m[..m.len() - 1].to_vec(),
            [&m[..], b"x"].concat(),
            {
                let mut x = m.clone();
                x[4] = 0;
                x
            },
            {
                let mut x = m.clone();
                x[1] = 1;
                x
            },
            vec![],
        ] {
            assert_eq!(echo_reply_nonce(&bad), None, "{bad:?}");
        }
    }
}
