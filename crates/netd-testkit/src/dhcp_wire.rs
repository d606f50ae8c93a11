//! A bare DHCPv4 client for the tests that need precise control over what is
//! sent (a REQUEST for a foreign address, eighty-odd distinct MACs): it runs
//! on a thread inside a container namespace, asks for broadcast replies, and
//! returns what the server said. Real clients (dhclient, udhcpc, dhcpcd) are
//! used everywhere else.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use dhcproto::v4::{DhcpOption, Flags, Message, MessageType, OptionCode};
use dhcproto::{Decodable, Decoder, Encodable};
use socket2::{Domain, Protocol, Socket, Type};

/// A DHCP socket on `ifname`, port 68, broadcast allowed. Call it on a thread
/// that is inside the namespace (see `lab::in_netns`).
pub fn client_socket(ifname: &str) -> UdpSocket {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).expect("socket");
    s.set_reuse_address(true).expect("SO_REUSEADDR");
    s.set_broadcast(true).expect("SO_BROADCAST");
    s.bind_device(Some(ifname.as_bytes()))
        .expect("SO_BINDTODEVICE");
    s.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, 68)).into())
        .expect("bind :68");
    s.into()
}

/// A BOOTREQUEST of `kind` from `mac` asking for broadcast replies.
pub fn request(kind: MessageType, mac: [u8; 6], xid: u32) -> Message {
    let mut m = Message::new_with_id(
        xid,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &mac,
    );
    m.set_flags(Flags::default().set_broadcast());
    m.opts_mut().insert(DhcpOption::MessageType(kind));
    m
}

/// Broadcasts `msg` and returns the first reply with the same xid within
/// `timeout`, or `None`.
pub fn exchange(sock: &UdpSocket, msg: &Message, timeout: Duration) -> Option<Message> {
    let bytes = msg.to_vec().expect("encoding a DHCP message");
    let dst = SocketAddrV4::new(Ipv4Addr::BROADCAST, 67);
    sock.send_to(&bytes, dst).expect("sending to :67");
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 1500];
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        sock.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .expect("SO_RCVTIMEO");
        let Ok((n, _)) = sock.recv_from(&mut buf) else {
            return None;
        };
        if let Ok(reply) = Message::decode(&mut Decoder::new(&buf[..n]))
            && reply.xid() == msg.xid()
            && reply.opcode() == dhcproto::v4::Opcode::BootReply
        {
            return Some(reply);
        }
    }
}

pub fn msg_type(m: &Message) -> Option<MessageType> {
    m.opts().msg_type()
}

pub fn server_id(m: &Message) -> Option<Ipv4Addr> {
    match m.opts().get(OptionCode::ServerIdentifier) {
        Some(DhcpOption::ServerIdentifier(a)) => Some(*a),
        _ => None,
    }
}

/// DISCOVER then REQUEST: the address the server ACKed, or `None` if it
/// offered nothing.
pub fn acquire(sock: &UdpSocket, mac: [u8; 6], xid: u32) -> Option<Ipv4Addr> {
    let offer = exchange(
        sock,
        &request(MessageType::Discover, mac, xid),
        Duration::from_secs(2),
    )?;
    assert_eq!(msg_type(&offer), Some(MessageType::Offer), "{offer:?}");
    let mut req = request(MessageType::Request, mac, xid.wrapping_add(1));
    req.opts_mut()
        .insert(DhcpOption::RequestedIpAddress(offer.yiaddr()));
    req.opts_mut().insert(DhcpOption::ServerIdentifier(
        server_id(&offer).expect("an OFFER carries a server identifier"),
    ));
    let ack = exchange(sock, &req, Duration::from_secs(2)).expect("no reply to REQUEST");
    assert_eq!(msg_type(&ack), Some(MessageType::Ack), "{ack:?}");
    assert_eq!(ack.yiaddr(), offer.yiaddr());
    Some(ack.yiaddr())
}

/// A locally administered unicast MAC numbered `n`.
pub fn mac(n: u16) -> [u8; 6] {
    let [hi, lo] = n.to_be_bytes();
    [0x02, 0x6e, 0x6e, 0x00, hi, lo]
}
