//! The shell against real loopback sockets: forged upstream replies are
//! ignored, identical queries share one exchange, and TCP connections
//! over the cap close the longest-idle one.

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
    Arc::new(Shared::new(
        resolver,
        Upstreams::new(upstreams, false),
        DEFAULT_FORWARD_MAX,
    ))
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
    // Right ID from another port: not the server asked, so no query sees it.
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

/// Sends `q` length-prefixed on `stream` and reads the answer.
async fn tcp_ask(stream: &mut TcpStream, q: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(q);
    stream.write_all(&framed).await?;
    let len = stream.read_u16().await? as usize;
    let mut msg = vec![0; len];
    stream.read_exact(&mut msg).await?;
    Ok(msg)
}

async fn closed(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    let n = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut byte)).await;
    matches!(n, Ok(Ok(0)) | Ok(Err(_)))
}

#[tokio::test]
async fn a_new_tcp_connection_over_the_cap_closes_the_longest_idle_one() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cancel = CancellationToken::new();
    let limits = TcpLimits {
        max_connections: 2,
        per_source: 2,
        idle: Duration::from_millis(500),
    };
    let shared = shared(&[]);
    tokio::spawn(serve_tcp(listener, shared.clone(), limits, cancel.clone()));
    // A query answered locally (single label: NXDOMAIN).
    let q = query_bytes(9, "intranet", 1, None);
    let mut first = TcpStream::connect(addr).await.unwrap();
    let msg = tcp_ask(&mut first, &q).await.unwrap();
    assert_eq!(parse(&msg).metadata.response_code, ResponseCode::NXDomain);
    let mut second = TcpStream::connect(addr).await.unwrap();
    tcp_ask(&mut second, &q).await.unwrap();
    // Over the cap: the first, idle longest, makes room; the new one is served.
    let mut third = TcpStream::connect(addr).await.unwrap();
    let msg = tcp_ask(&mut third, &q).await.unwrap();
    assert_eq!(parse(&msg).metadata.id, 9);
    assert!(
        closed(&mut first).await,
        "the longest-idle connection is closed"
    );
    assert!(tcp_ask(&mut second, &q).await.is_ok(), "the other stays");
    assert_eq!(
        shared
            .stats
            .tcp_evicted
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    // Idle: closed after the timeout.
    assert!(closed(&mut third).await);
    cancel.cancel();
}

#[tokio::test]
async fn identical_queries_in_flight_share_one_upstream_exchange() {
    let upstream = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let shared = shared(&[upstream.local_addr().unwrap()]);
    let mut tasks = Vec::new();
    for id in [0x0a01u16, 0x0a02, 0x0a03] {
        let q = query_bytes(id, "Merge.Example.Test", 1, None);
        let mut out = Vec::new();
        let Decision::Forward(fwd) =
            shared
                .resolver()
                .handle_query(&q, LOOPBACK, Transport::Udp, Instant::now(), &mut out)
        else {
            panic!("expected a forward")
        };
        let admitted = forward::admit(&shared, &fwd, LOOPBACK).expect("admitted");
        let shared = shared.clone();
        tasks.push(tokio::spawn(async move {
            forward::answer(&shared, &fwd, admitted, &mut out).await;
            out
        }));
    }
    let mut buf = [0u8; 512];
    let (n, asker) = upstream.recv_from(&mut buf).await.unwrap();
    let sent = parse(&buf[..n]);
    let answer = reply(
        sent.metadata.id,
        "merge.example.test.",
        RecordType::A,
        ResponseCode::NoError,
        vec![a("merge.example.test.", 0, [192, 0, 2, 5])],
        vec![],
    );
    upstream.send_to(&answer, asker).await.unwrap();
    for (task, id) in tasks.into_iter().zip([0x0a01u16, 0x0a02, 0x0a03]) {
        let m = parse(&task.await.unwrap());
        assert_eq!(m.metadata.id, id, "each client gets its own ID");
        assert_eq!(m.answers.len(), 1);
    }
    let more = tokio::time::timeout(Duration::from_millis(200), upstream.recv_from(&mut buf)).await;
    assert!(more.is_err(), "one exchange for three queries");
    assert_eq!(
        shared
            .stats
            .merged
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );
    assert!(shared.in_flight.is_empty());
}
