//! ARP for Ethernet and IPv4 (RFC 826), as much as probing a host needs:
//! a request for an address, and who answered. The Ethernet header is the
//! kernel's (a datagram packet socket); these are the 28 bytes after it.

use std::net::Ipv4Addr;

/// The length of an Ethernet/IPv4 ARP message.
pub const LEN: usize = 28;
const HTYPE_ETHERNET: [u8; 2] = [0, 1];
const PTYPE_IPV4: [u8; 2] = [0x08, 0x00];
const OP_REQUEST: u16 = 1;
const OP_REPLY: u16 = 2;

/// Who-has `target`, tell `sender_ip` at `sender_mac`.
pub fn request(sender_mac: [u8; 6], sender_ip: Ipv4Addr, target: Ipv4Addr) -> [u8; LEN] {
    let mut m = [0u8; LEN];
    m[0..2].copy_from_slice(&HTYPE_ETHERNET);
    m[2..4].copy_from_slice(&PTYPE_IPV4);
    m[4] = 6;
    m[5] = 4;
    m[6..8].copy_from_slice(&OP_REQUEST.to_be_bytes());
    m[8..14].copy_from_slice(&sender_mac);
    m[14..18].copy_from_slice(&sender_ip.octets());
    // Target hardware address: unknown, zero.
    m[24..28].copy_from_slice(&target.octets());
    m
}

/// The sender of an ARP message (a reply, or a request the host sends
/// itself): proof that `ip` is in use at `mac`. `None` for anything that
/// is not Ethernet/IPv4 ARP, or a probe (sender address 0.0.0.0).
pub fn sender(bytes: &[u8]) -> Option<([u8; 6], Ipv4Addr)> {
    if bytes.len() < LEN
        || bytes[0..2] != HTYPE_ETHERNET
        || bytes[2..4] != PTYPE_IPV4
        || bytes[4] != 6
        || bytes[5] != 4
    {
        return None;
    }
    let op = u16::from_be_bytes([bytes[6], bytes[7]]);
    if op != OP_REQUEST && op != OP_REPLY {
        return None;
    }
    let mac: [u8; 6] = bytes[8..14].try_into().ok()?;
    let ip = Ipv4Addr::new(bytes[14], bytes[15], bytes[16], bytes[17]);
    (!ip.is_unspecified()).then_some((mac, ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

    #[test]
    fn a_request_reads_back_and_a_reply_names_its_sender() {
        let me = Ipv4Addr::new(192, 168, 26, 1);
        let them = Ipv4Addr::new(192, 168, 26, 20);
        let req = request(MAC, me, them);
        assert_eq!(&req[24..28], &them.octets());
        assert_eq!(sender(&req), Some((MAC, me)));
        let mut reply = req;
        reply[7] = 2;
        reply[8..14].copy_from_slice(&[2, 0, 0, 0, 0, 9]);
        reply[14..18].copy_from_slice(&them.octets());
        assert_eq!(sender(&reply), Some(([2, 0, 0, 0, 0, 9], them)));
    }

    #[test]
    fn anything_else_names_no_one() {
        let req = request(MAC, Ipv4Addr::UNSPECIFIED, Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(sender(&req), None, "a probe proves nothing");
        let good = request(MAC, Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 1));
        for (i, v) in [(1, 6), (3, 0xdd), (4, 8), (5, 16), (7, 3)] {
            let mut m = good;
            m[i] = v;
            assert_eq!(sender(&m), None, "byte {i} = {v}");
        }
        assert_eq!(sender(&good[..27]), None);
    }
}
