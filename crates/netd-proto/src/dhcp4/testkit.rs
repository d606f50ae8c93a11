//! Test helpers: a configuration, client packets built with dhcproto, and
//! reply decoding. Only compiled for tests.

use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use dhcproto::v4::{DhcpOption, Flags, Message, MessageType, Opcode, OptionCode};
use dhcproto::{Decodable, Decoder, Encodable, Encoder};

use super::config::{Dhcp4Config, Dhcp4Range, LeaseTime, Reservation};

pub(crate) const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 26, 1);

/// nat0's configuration: .20 to .100, one hour, DNS on the server.
pub(crate) fn config() -> Dhcp4Config {
    Dhcp4Config {
        server_addr: SERVER,
        ranges: vec![Dhcp4Range {
            lease_time: LeaseTime::Finite(Duration::from_secs(3600)),
            ..Dhcp4Range::on_link(
                "192.168.26.0/24".parse().unwrap(),
                SERVER,
                Ipv4Addr::new(192, 168, 26, 20),
                Ipv4Addr::new(192, 168, 26, 100),
            )
        }],
        dns_servers: vec![SERVER],
        domain: None,
        mtu: None,
        options: Vec::new(),
        rapid_commit: false,
        ignore_client_id: false,
        reservations: vec![Reservation {
            hostname: Some("db".into()),
            ..Reservation::for_mac([0x52, 0x54, 0, 0, 0, 0x99], Ipv4Addr::new(192, 168, 26, 10))
        }],
        authoritative: true,
        decline_hold: Duration::from_secs(600),
    }
}

/// A fixed wall-clock time, plus `secs`.
pub(crate) fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

pub(crate) fn mac(n: u8) -> [u8; 6] {
    [0x52, 0x54, 0, 0x12, 0x34, n]
}

/// A client message from `mac` with `opts` (the message type is added).
#[derive(Debug, Clone)]
pub(crate) struct Packet {
    pub msg: Message,
}

impl Packet {
    pub(crate) fn new(msg_type: MessageType, mac: [u8; 6]) -> Packet {
        let mut msg = Message::new_with_id(
            0x1234_5678,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            &mac,
        );
        msg.set_opcode(Opcode::BootRequest);
        msg.opts_mut().insert(DhcpOption::MessageType(msg_type));
        Packet { msg }
    }

    pub(crate) fn opt(mut self, opt: DhcpOption) -> Packet {
        self.msg.opts_mut().insert(opt);
        self
    }

    pub(crate) fn requested(self, addr: Ipv4Addr) -> Packet {
        self.opt(DhcpOption::RequestedIpAddress(addr))
    }

    pub(crate) fn server_id(self, addr: Ipv4Addr) -> Packet {
        self.opt(DhcpOption::ServerIdentifier(addr))
    }

    pub(crate) fn ciaddr(mut self, addr: Ipv4Addr) -> Packet {
        self.msg.set_ciaddr(addr);
        self
    }

    pub(crate) fn giaddr(mut self, addr: Ipv4Addr) -> Packet {
        self.msg.set_giaddr(addr);
        self
    }

    pub(crate) fn broadcast(mut self) -> Packet {
        self.msg.set_flags(Flags::default().set_broadcast());
        self
    }

    pub(crate) fn prl(self, codes: &[u8]) -> Packet {
        self.opt(DhcpOption::ParameterRequestList(
            codes.iter().map(|c| OptionCode::from(*c)).collect(),
        ))
    }

    pub(crate) fn bytes(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        self.msg.encode(&mut Encoder::new(&mut buf)).unwrap();
        buf
    }
}

pub(crate) fn discover(mac: [u8; 6]) -> Packet {
    Packet::new(MessageType::Discover, mac)
}

/// REQUEST in SELECTING state: server id and requested address.
pub(crate) fn select(mac: [u8; 6], addr: Ipv4Addr) -> Packet {
    Packet::new(MessageType::Request, mac)
        .server_id(SERVER)
        .requested(addr)
}

/// REQUEST in INIT-REBOOT state: requested address, no server id.
pub(crate) fn reboot(mac: [u8; 6], addr: Ipv4Addr) -> Packet {
    Packet::new(MessageType::Request, mac).requested(addr)
}

/// REQUEST in RENEWING/REBINDING state: ciaddr only.
pub(crate) fn renew(mac: [u8; 6], addr: Ipv4Addr) -> Packet {
    Packet::new(MessageType::Request, mac).ciaddr(addr)
}

pub(crate) fn decline(mac: [u8; 6], addr: Ipv4Addr) -> Packet {
    Packet::new(MessageType::Decline, mac)
        .server_id(SERVER)
        .requested(addr)
}

pub(crate) fn release(mac: [u8; 6], addr: Ipv4Addr) -> Packet {
    Packet::new(MessageType::Release, mac)
        .server_id(SERVER)
        .ciaddr(addr)
}

pub(crate) fn decode(bytes: &[u8]) -> Message {
    Message::decode(&mut Decoder::new(bytes)).unwrap()
}

/// The option codes of a reply, in wire order (dhcproto's map would sort).
pub(crate) fn option_order(bytes: &[u8]) -> Vec<u8> {
    let mut codes = Vec::new();
    let mut i = 240;
    while i < bytes.len() {
        match bytes[i] {
            0 => i += 1,
            255 => break,
            code => {
                codes.push(code);
                i += 2 + usize::from(bytes[i + 1]);
            }
        }
    }
    codes
}

/// The value of option `code` in a reply, read off the wire.
pub(crate) fn option_value(bytes: &[u8], code: u8) -> Option<&[u8]> {
    let mut i = 240;
    while i < bytes.len() {
        match bytes[i] {
            0 => i += 1,
            255 => break,
            c => {
                let len = usize::from(bytes[i + 1]);
                if c == code {
                    return Some(&bytes[i + 2..i + 2 + len]);
                }
                i += 2 + len;
            }
        }
    }
    None
}
