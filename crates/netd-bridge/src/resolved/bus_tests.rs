//! The registration on a real D-Bus: a private `dbus-daemon` in a scratch
//! directory, a stand-in for resolve1 that owns its name and records the
//! calls, and the client code sending to it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use zbus::connection::Builder;
use zbus::message::Type as MessageType;

use super::*;

struct Bus {
    daemon: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// A bus daemon listening on a socket of its own, allowing anything.
fn private_bus() -> Bus {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("bus");
    let config = dir.path().join("bus.conf");
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"#,
            socket.display()
        ),
    )
    .unwrap();
    let daemon = Command::new("dbus-daemon")
        .arg(format!("--config-file={}", config.display()))
        .arg("--nofork")
        .stdout(Stdio::null())
        .spawn()
        .expect("starting dbus-daemon (Debian package dbus-daemon)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "dbus-daemon did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    Bus {
        daemon,
        address: format!("unix:path={}", socket.display()),
        _dir: dir,
    }
}

#[tokio::test]
async fn registration_and_revert_reach_resolve1_as_its_methods() {
    let bus = private_bus();
    tokio::time::timeout(Duration::from_secs(30), exchange(&bus))
        .await
        .expect("the D-Bus exchange finishes within 30 s");
}

async fn exchange(bus: &Bus) {
    let resolved = Builder::address(bus.address.as_str())
        .build()
        .await
        .unwrap();
    resolved.request_name(RESOLVE1_NAME).await.unwrap();
    let mut calls = zbus::MessageStream::from(&resolved);
    let client = Builder::address(bus.address.as_str())
        .build()
        .await
        .unwrap();
    let reg = registration(&BridgeConfig::default_nat0(), Some("box")).unwrap();
    let sender = tokio::spawn(async move {
        send_registration(&client, 7, &reg).await?;
        send_revert(&client, 7).await
    });

    let mut seen = Vec::new();
    while seen.len() < 4 {
        let msg = calls.next().await.unwrap().unwrap();
        let header = msg.header();
        if msg.message_type() != MessageType::MethodCall
            || header.interface().map(|i| i.as_str()) != Some(RESOLVE1_MANAGER)
        {
            continue;
        }
        assert_eq!(header.path().unwrap().as_str(), RESOLVE1_PATH);
        let member = header.member().unwrap().to_string();
        let body = msg.body();
        let text = match member.as_str() {
            "SetLinkDNS" => format!("{:?}", body.deserialize::<SetLinkDnsArgs>().unwrap()),
            "SetLinkDomains" => format!("{:?}", body.deserialize::<SetLinkDomainsArgs>().unwrap()),
            "SetLinkDefaultRoute" => {
                format!(
                    "{:?}",
                    body.deserialize::<SetLinkDefaultRouteArgs>().unwrap()
                )
            }
            "RevertLink" => format!("{:?}", body.deserialize::<RevertLinkArgs>().unwrap()),
            other => panic!("unexpected call {other}"),
        };
        resolved.reply(&header, &()).await.unwrap();
        seen.push(format!("{member}{text}"));
    }
    sender.await.unwrap().unwrap();
    let fd23_1 = "[253, 35, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]";
    assert_eq!(
        seen,
        [
            format!("SetLinkDNS(7, [(2, [192, 168, 26, 1]), (10, {fd23_1})])"),
            "SetLinkDomains(7, [(\"box\", true)])".to_string(),
            "SetLinkDefaultRoute(7, false)".to_string(),
            "RevertLink(7,)".to_string(),
        ]
    );
}
