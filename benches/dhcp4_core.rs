//! The DHCPv4 core with 10,000 leases in its table: DISCOVER→OFFER for new
//! clients, REQUEST→ACK for renewing ones, and a new client's full
//! DISCOVER→OFFER→REQUEST→ACK. Pure CPU: no socket, no file (the lease-file
//! write is the shell's and is batched across ACKs). The third bench also
//! builds its three client packets with dhcproto inside the timed loop.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use dhcproto::v4::{DhcpOption, Message, MessageType, Opcode, OptionCode};
use dhcproto::{Encodable, Encoder};
use netd_proto::dhcp4::{Dhcp4Config, Dhcp4Range, LeaseRecord, LeaseTime, Server};

const LEASES: u32 = 10_000;

fn config() -> Dhcp4Config {
    Dhcp4Config {
        server_addr: Ipv4Addr::new(10, 0, 0, 1),
        ranges: vec![Dhcp4Range {
            lease_time: LeaseTime::Finite(Duration::from_secs(3600)),
            ..Dhcp4Range::on_link(
                "10.0.0.0/14".parse().unwrap(),
                Ipv4Addr::new(10, 0, 0, 1),
                Ipv4Addr::new(10, 0, 0, 10),
                Ipv4Addr::new(10, 3, 255, 250),
            )
        }],
        dns_servers: vec![Ipv4Addr::new(10, 0, 0, 1)],
        domain: Some("lan".into()),
        mtu: None,
        options: Vec::new(),
        rapid_commit: false,
        ignore_client_id: false,
        reservations: vec![],
        authoritative: true,
        decline_hold: Duration::from_secs(600),
    }
}

fn mac(n: u32) -> [u8; 6] {
    let b = n.to_be_bytes();
    [0x52, 0x54, b[0], b[1], b[2], b[3]]
}

fn packet(msg_type: MessageType, mac: [u8; 6], f: impl FnOnce(&mut Message)) -> Vec<u8> {
    let z = Ipv4Addr::UNSPECIFIED;
    let mut msg = Message::new_with_id(0xdead_beef, z, z, z, z, &mac);
    msg.set_opcode(Opcode::BootRequest);
    let opts = msg.opts_mut();
    opts.insert(DhcpOption::MessageType(msg_type));
    opts.insert(DhcpOption::ParameterRequestList(
        [1u8, 3, 6, 15, 28, 51, 58, 59, 119]
            .into_iter()
            .map(OptionCode::from)
            .collect(),
    ));
    opts.insert(DhcpOption::Hostname(format!("host{}", mac[5])));
    f(&mut msg);
    let mut buf = Vec::new();
    msg.encode(&mut Encoder::new(&mut buf)).unwrap();
    buf
}

/// A server whose table holds `LEASES` bound leases, at `start`.
fn loaded_server(start: SystemTime) -> (Server, Vec<(u32, Ipv4Addr)>) {
    let expires = start
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let base = u32::from(Ipv4Addr::new(10, 1, 0, 0));
    let held: Vec<(u32, Ipv4Addr)> = (0..LEASES).map(|i| (i, Ipv4Addr::from(base + i))).collect();
    let records = held
        .iter()
        .map(|&(i, addr)| LeaseRecord {
            expires,
            mac: mac(i),
            addr,
            hostname: Some(format!("h{i}")),
            client_id: None,
        })
        .collect();
    let server = Server::new(config(), start, records).with_lease_max(1_000_000);
    (server, held)
}

fn bench(c: &mut Criterion) {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let mut group = c.benchmark_group("dhcp4_core_10k_leases");

    // New clients: each DISCOVER is from a MAC never seen, so the server
    // hashes, probes and records an offer. Time moves 10 ms a packet and
    // expired offers are collected, as the shell would.
    {
        let (mut server, _) = loaded_server(start);
        let packets: Vec<Vec<u8>> = (0..50_000u32)
            .map(|i| packet(MessageType::Discover, mac(1_000_000 + i), |_| {}))
            .collect();
        let mut i = 0usize;
        let mut now = start;
        group.bench_function("discover_to_offer_new_client", |b| {
            b.iter(|| {
                now += Duration::from_millis(10);
                server.handle_timeout(now);
                let reply = server.handle(now, black_box(&packets[i % packets.len()]));
                i += 1;
                black_box(reply)
            })
        });
        server.check_invariants().unwrap();
    }

    // Renewing clients (RENEWING state: ciaddr) across the 10,000 leases.
    {
        let (mut server, held) = loaded_server(start);
        let packets: Vec<Vec<u8>> = held
            .iter()
            .map(|&(i, addr)| {
                packet(MessageType::Request, mac(i), |m| {
                    m.set_ciaddr(addr);
                })
            })
            .collect();
        let mut i = 0usize;
        group.bench_function("request_to_ack_renewal", |b| {
            b.iter(|| {
                let reply = server.handle(start, black_box(&packets[i % packets.len()]));
                i += 1;
                while server.poll_event().is_some() {}
                assert!(reply.as_ref().is_some_and(|r| r.needs_commit));
                black_box(reply)
            })
        });
        server.check_invariants().unwrap();
    }

    // A new client's whole exchange, then its lease is released so the
    // table stays at 10,000.
    {
        let (mut server, _) = loaded_server(start);
        let mut n = 2_000_000u32;
        group.bench_function("new_client_discover_request_ack", |b| {
            b.iter(|| {
                n += 1;
                let m = mac(n);
                let offer = server
                    .handle(start, &packet(MessageType::Discover, m, |_| {}))
                    .unwrap();
                let addr = offer.yiaddr;
                let request = packet(MessageType::Request, m, |msg| {
                    msg.opts_mut()
                        .insert(DhcpOption::ServerIdentifier(Ipv4Addr::new(10, 0, 0, 1)));
                    msg.opts_mut().insert(DhcpOption::RequestedIpAddress(addr));
                });
                let ack = server.handle(start, &request).unwrap();
                let release = packet(MessageType::Release, m, |msg| {
                    msg.set_ciaddr(addr);
                });
                server.handle(start, &release);
                while server.poll_event().is_some() {}
                black_box(ack)
            })
        });
        server.check_invariants().unwrap();
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
