//! The nf_tables netlink reply parser on arbitrary bytes: splitting a
//! datagram into messages, reading dumps (tables, chains, rules) the way
//! `up`, the watcher and the doctor do, and following change notifications.
//! Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netd_bridge::nft::inspect;
use netd_bridge::nft::notify::Notifications;
use netd_bridge::nft::rule_counts_in;
use netd_bridge::nft::socket::split_messages;
use netlink_packet_core::NetlinkPayload;

const TABLE: &str = "nspawn_netd_nat0";

fuzz_target!(|data: &[u8]| {
    let msgs: Vec<_> = split_messages(data)
        .into_iter()
        .filter_map(|m| match m.payload {
            NetlinkPayload::InnerMessage(inner) => Some(inner),
            _ => None,
        })
        .collect();
    let chains = inspect::base_chains_in(msgs.clone());
    let drops = inspect::drop_rules_in(msgs.clone(), &chains);
    assert!(drops.len() <= msgs.len());
    let _ = inspect::table_userdata_in(msgs.clone(), TABLE);
    let counts = rule_counts_in(msgs.clone(), TABLE);
    assert!(counts.values().sum::<usize>() <= msgs.len());
    let mut notifications = Notifications::new(|_| false, TABLE);
    let _ = notifications.feed(data);
});
