//! The bridge over rtnetlink: observe it, apply a [`LinkPlan`], undo what
//! `up` did, and find uplinks with an RA-learned IPv6 default route.

use std::net::{IpAddr, Ipv6Addr};

use futures::TryStreamExt;
use ipnetwork::IpNetwork;
use netlink_packet_route::AddressFamily;
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkFlags, LinkInfo, LinkMessage};
use netlink_packet_route::route::{RouteAttribute, RouteProtocol};
use rtnetlink::{Handle, LinkBridge, LinkMessageBuilder, LinkUnspec, RouteMessageBuilder};

use crate::Error;
use crate::plan::{LinkOp, ObservedLink};

/// An rtnetlink connection whose task runs on the current tokio runtime.
#[derive(Debug, Clone)]
pub struct Links {
    handle: Handle,
}

fn rt(what: impl Into<String>) -> impl FnOnce(rtnetlink::Error) -> Error {
    let what = what.into();
    move |source| Error::Rtnetlink { what, source }
}

fn is_enodev(e: &rtnetlink::Error) -> bool {
    matches!(e, rtnetlink::Error::NetlinkError(m)
        if m.code.map(|c| c.get()) == Some(-libc::ENODEV))
}

impl Links {
    pub fn connect() -> Result<Links, Error> {
        let (conn, handle, _) = rtnetlink::new_connection()
            .map_err(|e| Error::Netlink("opening an rtnetlink socket".into(), e))?;
        tokio::spawn(conn);
        Ok(Links { handle })
    }

    async fn link_by_name(&self, name: &str) -> Result<Option<LinkMessage>, Error> {
        let mut s = self
            .handle
            .link()
            .get()
            .match_name(name.to_string())
            .execute();
        match s.try_next().await {
            Ok(m) => Ok(m),
            Err(e) if is_enodev(&e) => Ok(None),
            Err(e) => Err(rt(format!("reading link {name}"))(e)),
        }
    }

    /// What exists under `name`, with its addresses.
    pub async fn observe(&self, name: &str) -> Result<Option<ObservedLink>, Error> {
        let Some(msg) = self.link_by_name(name).await? else {
            return Ok(None);
        };
        let mut obs = ObservedLink {
            index: msg.header.index,
            up: msg.header.flags.contains(LinkFlags::Up),
            ..ObservedLink::default()
        };
        for a in &msg.attributes {
            match a {
                LinkAttribute::Address(mac) => obs.mac = mac.clone(),
                LinkAttribute::Mtu(mtu) => obs.mtu = Some(*mtu),
                LinkAttribute::LinkInfo(infos) => {
                    for i in infos {
                        if let LinkInfo::Kind(k) = i {
                            obs.kind = Some(match k {
                                InfoKind::Bridge => "bridge".to_string(),
                                other => other.to_string(),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        obs.addresses = self
            .addresses(obs.index)
            .await?
            .iter()
            .filter_map(address_of)
            .collect();
        Ok(Some(obs))
    }

    async fn addresses(&self, index: u32) -> Result<Vec<AddressMessage>, Error> {
        self.handle
            .address()
            .get()
            .set_link_index_filter(index)
            .execute()
            .try_collect()
            .await
            .map_err(rt("reading addresses"))
    }

    /// Applies the operations in order; `index` is the bridge's index when
    /// it exists already. Returns the index.
    pub async fn apply(
        &self,
        name: &str,
        mut index: Option<u32>,
        op: &LinkOp,
    ) -> Result<u32, Error> {
        match op {
            LinkOp::CreateBridge { name, mac } => {
                let msg = LinkMessageBuilder::<LinkBridge>::new(name)
                    .address(mac.to_vec())
                    .build();
                self.handle
                    .link()
                    .add(msg)
                    .execute()
                    .await
                    .map_err(rt(format!("creating bridge {name}")))?;
                let link = self.link_by_name(name).await?.ok_or_else(|| {
                    Error::Conflict(format!("bridge {name} vanished right after creation"))
                })?;
                index = Some(link.header.index);
            }
            LinkOp::AddAddress(net) => {
                let idx = index.ok_or_else(|| Error::Conflict(format!("{name} does not exist")))?;
                let mut req = self.handle.address().add(idx, net.ip(), net.prefix());
                if net.is_ipv6() {
                    // No duplicate address detection: the address is usable
                    // at once, and nothing else on a fresh bridge can hold it.
                    req.message_mut()
                        .attributes
                        .push(AddressAttribute::Flags(AddressFlags::Nodad));
                }
                req.execute()
                    .await
                    .map_err(rt(format!("adding {net} to {name}")))?;
            }
            LinkOp::SetUp => {
                let idx = index.ok_or_else(|| Error::Conflict(format!("{name} does not exist")))?;
                self.set_up(idx, true)
                    .await
                    .map_err(rt(format!("setting {name} up")))?;
            }
        }
        index.ok_or_else(|| Error::Conflict(format!("{name} does not exist")))
    }

    async fn set_up(&self, index: u32, up: bool) -> Result<(), rtnetlink::Error> {
        let b = LinkUnspec::new_with_index(index);
        let b = if up { b.up() } else { b.down() };
        self.handle.link().set(b.build()).execute().await
    }

    /// Deletes the link `name`; `Ok(false)` when it is gone already.
    pub async fn delete(&self, name: &str) -> Result<bool, Error> {
        let Some(link) = self.link_by_name(name).await? else {
            return Ok(false);
        };
        self.handle
            .link()
            .del(link.header.index)
            .execute()
            .await
            .map_err(rt(format!("deleting {name}")))?;
        Ok(true)
    }

    /// Sets `name` down.
    pub async fn set_down(&self, name: &str) -> Result<(), Error> {
        if let Some(link) = self.link_by_name(name).await? {
            self.set_up(link.header.index, false)
                .await
                .map_err(rt(format!("setting {name} down")))?;
        }
        Ok(())
    }

    /// Removes one address from `name`; `Ok(false)` when it is not there.
    pub async fn remove_address(&self, name: &str, net: IpNetwork) -> Result<bool, Error> {
        let Some(link) = self.link_by_name(name).await? else {
            return Ok(false);
        };
        for msg in self.addresses(link.header.index).await? {
            if address_of(&msg) == Some(net) {
                self.handle
                    .address()
                    .del(msg)
                    .execute()
                    .await
                    .map_err(rt(format!("removing {net} from {name}")))?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Interfaces that hold an IPv6 default route learned from a router
    /// advertisement (`proto ra`).
    pub async fn ra_default_route_ifaces(&self) -> Result<Vec<String>, Error> {
        let req = RouteMessageBuilder::<Ipv6Addr>::new().build();
        let routes: Vec<_> = self
            .handle
            .route()
            .get(req)
            .execute()
            .try_collect()
            .await
            .map_err(rt("reading IPv6 routes"))?;
        let mut out = Vec::new();
        for r in routes {
            if r.header.destination_prefix_length != 0 || r.header.protocol != RouteProtocol::Ra {
                continue;
            }
            for a in &r.attributes {
                if let RouteAttribute::Oif(idx) = a
                    && let Some(name) = self.name_of(*idx).await?
                    && !out.contains(&name)
                {
                    out.push(name);
                }
            }
        }
        Ok(out)
    }

    async fn name_of(&self, index: u32) -> Result<Option<String>, Error> {
        let mut s = self.handle.link().get().match_index(index).execute();
        let msg = match s.try_next().await {
            Ok(m) => m,
            Err(e) if is_enodev(&e) => None,
            Err(e) => return Err(rt("reading a link")(e)),
        };
        Ok(msg.and_then(|m| {
            m.attributes.into_iter().find_map(|a| match a {
                LinkAttribute::IfName(n) => Some(n),
                _ => None,
            })
        }))
    }
}

/// The address and prefix of an address message (`IFA_LOCAL` for IPv4,
/// `IFA_ADDRESS` for IPv6).
fn address_of(msg: &AddressMessage) -> Option<IpNetwork> {
    let prefix = msg.header.prefix_len;
    let pick = |want_local: bool| {
        msg.attributes.iter().find_map(|a| match a {
            AddressAttribute::Local(ip) if want_local => Some(*ip),
            AddressAttribute::Address(ip) if !want_local => Some(*ip),
            _ => None,
        })
    };
    let ip: IpAddr = if msg.header.family == AddressFamily::Inet {
        pick(true).or_else(|| pick(false))?
    } else {
        pick(false)?
    };
    IpNetwork::new(ip, prefix).ok()
}
