//! A `NETLINK_NETFILTER` socket that sends our batches and dump requests
//! and reads the kernel's answers. Blocking, with a receive timeout: each
//! call is short, and async callers run it on a blocking thread.

use std::time::Duration;

use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_netfilter::NetfilterMessage;
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_NETFILTER};

use super::batch::Batch;
use crate::Error;

/// How long to wait for the kernel's answer to a dump before giving up.
const RECV_TIMEOUT: Duration = Duration::from_secs(3);

/// One nf_tables netlink socket.
#[derive(Debug)]
pub struct NfSocket {
    socket: Socket,
    /// Sequence numbers continue across requests so a late answer to an
    /// earlier request is never taken for the current one.
    seq: u32,
}

impl NfSocket {
    pub fn open() -> Result<NfSocket, Error> {
        let io = |e| Error::Netlink("opening a NETLINK_NETFILTER socket".into(), e);
        let mut socket = Socket::new(NETLINK_NETFILTER).map_err(io)?;
        socket.bind_auto().map_err(io)?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(io)?;
        // Acks without the request copied in: our batches are large.
        let _ = socket.set_cap_ack(true);
        let _ = socket.set_ext_ack(true);
        crate::sys::set_recv_timeout(&socket, RECV_TIMEOUT).map_err(io)?;
        Ok(NfSocket { socket, seq: 1 })
    }

    /// The next free sequence number, reserving `n`.
    pub fn take_seq(&mut self, n: u32) -> u32 {
        let s = self.seq;
        self.seq = self.seq.wrapping_add(n);
        s
    }

    /// Sends a batch and waits for an acknowledgement of each acknowledged
    /// message. The kernel processes a batch inside `sendmsg`, so every
    /// answer is queued by the time it returns.
    pub fn transact(&mut self, build: impl FnOnce(u32) -> Batch) -> Result<(), Error> {
        let first = self.seq;
        let batch = build(first);
        self.seq = batch.next_seq();
        self.socket
            .send(&batch.bytes, 0)
            .map_err(|e| Error::Netlink("sending an nf_tables batch".into(), e))?;
        let mut pending: Vec<(u32, String)> = batch.acked.clone();
        let ours = first..batch.next_seq();
        let mut first_error: Option<Error> = None;
        while !pending.is_empty() {
            let msgs = self.recv_messages()?;
            for msg in msgs {
                let seq = msg.header.sequence_number;
                let code = match &msg.payload {
                    NetlinkPayload::Error(err) => err.code.map(|c| c.get()),
                    _ => None,
                };
                let Some(pos) = pending.iter().position(|(s, _)| *s == seq) else {
                    // Only a failure is answered for the unacknowledged batch
                    // begin/end (e.g. EPERM without CAP_NET_ADMIN): nothing
                    // else of the batch was done.
                    if let Some(code) = code
                        && ours.contains(&seq)
                    {
                        return Err(Error::Nftables {
                            what: "start a transaction".into(),
                            source: std::io::Error::from_raw_os_error(-code),
                        });
                    }
                    continue;
                };
                let (_, what) = pending.remove(pos);
                if let Some(code) = code
                    && first_error.is_none()
                {
                    first_error = Some(Error::Nftables {
                        what,
                        source: std::io::Error::from_raw_os_error(-code),
                    });
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Sends a dump request built with sequence number `seq` and returns
    /// every nf_tables message of the answer.
    pub fn dump(
        &mut self,
        request: impl FnOnce(u32) -> Vec<u8>,
    ) -> Result<Vec<NetfilterMessage>, Error> {
        let seq = self.take_seq(1);
        self.socket
            .send(&request(seq), 0)
            .map_err(|e| Error::Netlink("sending an nf_tables dump request".into(), e))?;
        let mut out = Vec::new();
        loop {
            for msg in self.recv_messages()? {
                if msg.header.sequence_number != seq {
                    continue;
                }
                match msg.payload {
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::InnerMessage(m) => out.push(m),
                    NetlinkPayload::Error(err) => {
                        if let Some(code) = err.code {
                            return Err(Error::Nftables {
                                what: "dump".into(),
                                source: std::io::Error::from_raw_os_error(-code.get()),
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn recv_messages(&self) -> Result<Vec<NetlinkMessage<NetfilterMessage>>, Error> {
        let mut buf = vec![0u8; 256 * 1024];
        let n = self
            .socket
            .recv(&mut &mut buf[..], 0)
            .map_err(|e| Error::Netlink("reading nf_tables answers".into(), e))?;
        Ok(split_messages(&buf[..n]))
    }
}

/// Splits a datagram into netlink messages; one that does not parse, or
/// that the decoder could not read safely ([`super::precheck`]), is
/// skipped (logged at debug), the rest are kept.
pub fn split_messages(mut buf: &[u8]) -> Vec<NetlinkMessage<NetfilterMessage>> {
    let mut out = Vec::new();
    while buf.len() >= 16 {
        let len = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if len < 16 || len > buf.len() {
            tracing::debug!(len, left = buf.len(), "truncated netlink message dropped");
            break;
        }
        if !super::precheck::decodable(&buf[..len]) {
            tracing::debug!(len, "netlink message not decoded: not one we read safely");
        } else {
            match NetlinkMessage::<NetfilterMessage>::deserialize(&buf[..len]) {
                Ok(m) => out.push(m),
                Err(e) => tracing::debug!("undecodable netlink message dropped: {e}"),
            }
        }
        let advance = ((len + 3) & !3).min(buf.len());
        buf = &buf[advance..];
    }
    out
}
