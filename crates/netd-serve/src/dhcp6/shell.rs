//! The DHCPv6 server's tokio shell: a UDP socket on port 547 bound to the
//! interface and joined to ff02::1:2; replies go back to the client's
//! link-local address, port 546.

use std::io;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::sync::Arc;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;
use tracing::info;

use netd_proto::dhcp6::Dhcp6Server;

use crate::stats::{self, Dhcp6Stats};
use crate::transient::TransientErrors;

/// ff02::1:2, All_DHCP_Relay_Agents_and_Servers (RFC 8415 7.1).
pub(crate) const ALL_DHCP_RELAY_AGENTS_AND_SERVERS: Ipv6Addr =
    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);
pub(crate) const SERVER_PORT: u16 = 547;

/// The bound socket and the server it feeds.
#[derive(Debug)]
pub(crate) struct Dhcp6Shell {
    socket: UdpSocket,
    server: Dhcp6Server,
    ifname: String,
    stats: Arc<Dhcp6Stats>,
}

impl Dhcp6Shell {
    /// Binds `[::]:547` on `ifname` (SO_BINDTODEVICE, so daemons on other
    /// bridges can bind the same port) and joins ff02::1:2 there.
    pub(crate) fn bind(
        ifname: &str,
        ifindex: u32,
        server: Dhcp6Server,
        stats: Arc<Dhcp6Stats>,
    ) -> io::Result<Dhcp6Shell> {
        let s = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
        s.set_only_v6(true)?;
        s.set_reuse_address(true)?;
        s.bind_device(Some(ifname.as_bytes()))?;
        s.set_nonblocking(true)?;
        s.bind(&SocketAddr::from((Ipv6Addr::UNSPECIFIED, SERVER_PORT)).into())?;
        s.join_multicast_v6(&ALL_DHCP_RELAY_AGENTS_AND_SERVERS, ifindex)?;
        s.set_multicast_if_v6(ifindex)?;
        let socket = UdpSocket::from_std(s.into())?;
        Ok(Dhcp6Shell {
            socket,
            server,
            ifname: ifname.to_owned(),
            stats,
        })
    }

    pub(crate) async fn run(mut self, cancel: CancellationToken) -> io::Result<()> {
        info!(interface = %self.ifname, "stateless DHCPv6 listening on port 547");
        let mut buf = vec![0u8; 1500];
        let mut errors = TransientErrors::new("dhcp6", &self.ifname);
        loop {
            let got = tokio::select! {
                _ = cancel.cancelled() => break,
                got = self.socket.recv_from(&mut buf) => got,
            };
            let (n, from) = match got {
                Ok(got) => got,
                Err(e) => {
                    errors.note(&self.stats.io_errors, "receiving DHCPv6", &e);
                    continue;
                }
            };
            let SocketAddr::V6(from) = from else { continue };
            let reply = self.server.handle(&buf[..n]);
            self.publish_stats();
            let Some(reply) = reply else {
                continue;
            };
            let to = SocketAddrV6::new(*from.ip(), from.port(), 0, from.scope_id());
            if let Err(e) = self.socket.send_to(&reply, to).await {
                errors.note(
                    &self.stats.io_errors,
                    &format!("sending the DHCPv6 reply to {to}"),
                    &e,
                );
            }
        }
        let s = &self.server.stats;
        info!(
            interface = %self.ifname,
            replies = s.replies,
            advertises = s.advertises,
            malformed = s.malformed,
            ignored = s.ignored,
            "stateless DHCPv6 stopped"
        );
        Ok(())
    }

    fn publish_stats(&self) {
        let (st, s) = (&self.stats, &self.server.stats);
        for (gauge, v) in [
            (&st.replies, s.replies),
            (&st.advertises, s.advertises),
            (&st.malformed, s.malformed),
            (&st.ignored, s.ignored),
        ] {
            stats::set(gauge, v);
        }
    }
}
