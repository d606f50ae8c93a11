//! The daemon's [`Status`] as tables for people: the lease table, the
//! pool, the DNS cache and upstreams, RA, then every service's counters.

use std::fmt::Write;

use netd_serve::status::lines::relative;
use netd_serve::status::{Counters, LeaseStatus, Status};

/// Lays out rows under a header, each column as wide as its widest cell.
fn grid(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, cell) in width.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.zip(&width).enumerate() {
            if i + 1 == width.len() {
                l.push_str(cell);
            } else {
                let _ = write!(l, "{cell:<w$}  ");
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for r in rows {
        line(&mut r.iter().map(String::as_str));
    }
    out
}

/// `3h 02m`, `45 s`: a duration for people.
pub fn human(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
        s => format!("{}d {:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

fn expiry(expires: Option<u64>, now: u64) -> String {
    match expires {
        None => "never".into(),
        Some(t) if t <= now => "expired".into(),
        Some(t) => format!("in {}", human(t - now)),
    }
}

fn arp(known: Option<bool>) -> &'static str {
    match known {
        Some(true) => "yes",
        Some(false) => "no",
        None => "-",
    }
}

/// The lease table alone.
pub fn leases(leases: &[LeaseStatus], now: u64) -> String {
    if leases.is_empty() {
        return "no leases\n".into();
    }
    let rows: Vec<Vec<String>> = leases
        .iter()
        .map(|l| {
            vec![
                l.mac.clone(),
                l.ip.to_string(),
                l.name.clone().unwrap_or_else(|| "-".into()),
                expiry(l.expires, now),
                arp(l.arp).into(),
            ]
        })
        .collect();
    grid(&["MAC", "IP", "NAME", "EXPIRES", "ARP"], &rows)
}

fn counters(service: &str, c: &Counters) -> String {
    let values: Vec<String> = c.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!("  {service}: {}\n", values.join(", "))
}

/// Bytes for people.
fn bytes(n: u64) -> String {
    match n {
        n if n < 1024 => format!("{n} B"),
        n if n < 1 << 20 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{:.1} MiB", n as f64 / f64::from(1 << 20)),
    }
}

/// Everything.
pub fn status(s: &Status) -> String {
    let mut out = format!(
        "nspawn-netd {} on {}, up {}\n",
        s.version,
        s.interface,
        human(s.uptime_secs)
    );
    let mut all_counters = String::new();
    if let Some(d) = &s.dhcp4 {
        let replies = d.reply_latency.mean().map_or(String::new(), |m| {
            format!(
                "; {} replies, mean {:.2} ms",
                d.reply_latency.count,
                m.as_secs_f64() * 1000.0
            )
        });
        let _ = writeln!(
            out,
            "\nDHCPv4: {} leases, pool {}, {} free{replies}",
            d.leases.len(),
            d.pool_size,
            d.free
        );
        out.push_str(&leases(&d.leases, s.time));
        all_counters.push_str(&counters("dhcp4", &d.counters));
    }
    if let Some(d) = &s.dns {
        let c = &d.cache;
        let _ = writeln!(
            out,
            "\nDNS cache: {} entries, {}, {} hits, {} misses, {} insertions, {} evictions",
            c.entries,
            bytes(c.bytes),
            c.hits,
            c.misses,
            c.insertions,
            c.evictions
        );
        if d.upstreams.is_empty() {
            out.push_str("no upstream servers\n");
        } else {
            let rows: Vec<Vec<String>> = d
                .upstreams
                .iter()
                .map(|u| {
                    vec![
                        format!("{}#{}", u.address.ip(), u.address.port()),
                        if u.in_use { "yes" } else { "" }.into(),
                        u.answers.to_string(),
                        u.timeouts.to_string(),
                        u.failing.to_string(),
                        u.latency_ms.map_or("-".into(), |ms| format!("{ms:.1} ms")),
                    ]
                })
                .collect();
            out.push_str(&grid(
                &[
                    "UPSTREAM", "IN USE", "ANSWERS", "TIMEOUTS", "FAILING", "LATENCY",
                ],
                &rows,
            ));
        }
        all_counters.push_str(&counters("dns", &d.counters));
    }
    if let Some(r) = &s.ra {
        let _ = writeln!(
            out,
            "\nRouter advertisements: {}; last sent {}, next due {}",
            if r.prefixes.is_empty() {
                "no prefix".to_owned()
            } else {
                r.prefixes.join(", ")
            },
            relative(r.last_sent_ms, s.time),
            relative(r.next_due_ms, s.time)
        );
        all_counters.push_str(&counters("ra", &r.counters));
    }
    if let Some(c) = &s.dhcp6 {
        all_counters.push_str(&counters("dhcp6", c));
    }
    if !all_counters.is_empty() {
        out.push_str("\nCounters:\n");
        out.push_str(&all_counters);
    }
    out
}

#[cfg(test)]
mod tests;
