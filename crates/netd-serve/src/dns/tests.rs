//! The shell against real loopback sockets: forged upstream replies are
//! ignored, and TCP connections are capped and closed when idle.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio_util::sync::CancellationToken;

use super::*;
use netd_proto::dns::resolver::{Decision, Transport};
use netd_proto::dns::{DnsConfig, Hosts};
use netd_proto::names::LocalNames;
use netd_testkit::dns_messages::query_bytes;
use netd_testkit::dns_messages::{a, parse, reply};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn shared(upstreams: &[SocketAddr]) -> Arc<Shared> {
    let resolver = Resolver::new(
        DnsConfig::default(),
        LocalNames::new(None),
        Hosts::default(),
    );
    Arc::new(Shared::new(resolver, Upstreams::new(upstreams, false)))
}

#[tokio::test]
async fn forged_replies_are_ignored_and_the_true_one_is_taken() {
    let upstream = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let up_addr = upstream.local_addr().unwrap();
    let shared = shared(&[up_addr]);
    let mut out = Vec::new();
    let q = query_bytes(0x1111, "www.example.test", 1, None);
    let decision =
        shared
            .resolver()
            .handle_query(&q, LOOPBACK, Transport::Udp, Instant::now(), &mut out);
    let Decision::Forward(fwd) = decision else {
        panic!("expected a forward")
    };
    let task = tokio::spawn({
        let shared = shared.clone();
        async move { forward::resolve(&shared, &fwd).await }
    });
    let mut buf = [0u8; 512];
    let (n, asker) = upstream.recv_from(&mut buf).await.unwrap();
    let sent = parse(&buf[..n]);
    assert_ne!(asker.port(), 0);
    let answer = |id, ip| {
        reply(
            id,
            "www.example.test.",
            RecordType::A,
            ResponseCode::NoError,
            vec![a("www.example.test.", 60, ip)],
            vec![],
        )
    };
    // Wrong ID from the right server: ignored.
    let forged_id = sent.metadata.id.wrapping_add(1);
    upstream
        .send_to(&answer(forged_id, [6, 6, 6, 6]), asker)
        .await
        .unwrap();
    // Right ID from another port: the connected socket never sees it.
    let other = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    other
        .send_to(&answer(sent.metadata.id, [6, 6, 6, 7]), asker)
        .await
        .unwrap();
    upstream
        .send_to(&answer(sent.metadata.id, [192, 0, 2, 1]), asker)
        .await
        .unwrap();
    let got = task.await.unwrap().expect("an answer");
    let m = parse(&got);
    assert_eq!(m.answers.len(), 1);
    assert!(
        matches!(&m.answers[0].data, hickory_proto::rr::RData::A(a) if a.0 == Ipv4Addr::new(192, 0, 2, 1))
    );
}

#[tokio::test]
async fn a_silent_upstream_is_left_for_the_next_within_a_second() {
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let live = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let shared = shared(&[silent.local_addr().unwrap(), live.local_addr().unwrap()]);
    let mut out = Vec::new();
    let q = query_bytes(1, "www.example.test", 1, None);
    let Decision::Forward(fwd) =
        shared
            .resolver()
            .handle_query(&q, LOOPBACK, Transport::Udp, Instant::now(), &mut out)
    else {
        panic!()
    };
    let started = Instant::now();
    let task = tokio::spawn({
        let shared = shared.clone();
        async move { forward::resolve(&shared, &fwd).await }
    });
    let mut buf = [0u8; 512];
    let (n, asker) = live.recv_from(&mut buf).await.unwrap();
    let id = parse(&buf[..n]).metadata.id;
    live.send_to(
        &reply(
            id,
            "www.example.test.",
            RecordType::A,
            ResponseCode::NoError,
            vec![],
            vec![],
        ),
        asker,
    )
    .await
    .unwrap();
    assert!(task.await.unwrap().is_some());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // The live server now comes first.
    assert_eq!(
        shared.upstreams().candidates(Instant::now())[0],
        live.local_addr().unwrap()
    );
}

#[tokio::test]
async fn tcp_connections_are_capped_and_closed_when_idle() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cancel = CancellationToken::new();
    let limits = TcpLimits {
        max_connections: 1,
        idle: Duration::from_millis(300),
    };
    tokio::spawn(serve_tcp(listener, shared(&[]), limits, cancel.clone()));
    let mut first = TcpStream::connect(addr).await.unwrap();
    // A query answered locally (single label: NXDOMAIN), length-prefixed.
    let q = query_bytes(9, "intranet", 1, None);
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    first.write_all(&framed).await.unwrap();
    let len = first.read_u16().await.unwrap() as usize;
    let mut msg = vec![0; len];
    first.read_exact(&mut msg).await.unwrap();
    assert_eq!(parse(&msg).metadata.response_code, ResponseCode::NXDomain);
    // Over the cap: closed at once.
    let mut second = TcpStream::connect(addr).await.unwrap();
    let mut byte = [0u8; 1];
    let n = tokio::time::timeout(Duration::from_secs(2), second.read(&mut byte)).await;
    assert!(matches!(n, Ok(Ok(0)) | Ok(Err(_))), "{n:?}");
    // Idle: the first is closed after the timeout.
    let n = tokio::time::timeout(Duration::from_secs(2), first.read(&mut byte)).await;
    assert!(matches!(n, Ok(Ok(0)) | Ok(Err(_))), "{n:?}");
    cancel.cancel();
}
