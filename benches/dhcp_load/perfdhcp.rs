//! Running Kea's perfdhcp as a relay agent from the client namespace,
//! pinned to CPU 1, and reading its final report.

use netd_testkit::lab::Netns;

/// What one perfdhcp run reports.
#[derive(Debug, Default, Clone, Copy)]
pub struct Report {
    /// DISCOVERs sent: offered exchanges.
    pub discovers: u64,
    /// ACKs received: completed exchanges.
    pub acks: u64,
}

impl Report {
    /// Offered exchanges that did not complete, as a fraction.
    pub fn loss(&self) -> f64 {
        if self.discovers == 0 {
            return 1.0;
        }
        1.0 - self.acks as f64 / self.discovers as f64
    }
}

/// Runs perfdhcp for `seconds` at `rate` DORA exchanges per second
/// (`0`: as fast as it can) with `clients` distinct MACs from `mac_base`.
pub fn run(
    client: &Netns,
    local: &str,
    server: &str,
    rate: u32,
    seconds: u32,
    clients: u32,
    mac_base: &str,
) -> Report {
    let rate_s = rate.to_string();
    let secs = seconds.to_string();
    let clients_s = clients.to_string();
    let base = format!("mac={mac_base}");
    let mut argv = vec![
        "taskset", "-c", "1", "perfdhcp", "-4", "-l", local, "-p", &secs, "-R", &clients_s, "-b",
        &base, "-d", "2",
    ];
    if rate > 0 {
        argv.extend_from_slice(&["-r", &rate_s]);
    }
    argv.push(server);
    // perfdhcp exits 3 when packets were dropped: not an error here.
    let out = client.run(&argv);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    parse(&text).unwrap_or_else(|| {
        panic!(
            "no perfdhcp report ({}):\n{text}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The sent and received counts of both exchanges.
fn parse(text: &str) -> Option<Report> {
    let section = |name: &str| -> Option<(u64, u64)> {
        let start = text.find(&format!("***Statistics for: {name}***"))?;
        let body = &text[start..];
        let field = |label: &str| -> Option<u64> {
            body.lines()
                .find(|l| l.trim_start().starts_with(label))?
                .split(':')
                .nth(1)?
                .trim()
                .parse()
                .ok()
        };
        Some((field("sent packets")?, field("received packets")?))
    };
    let (discovers, _offers) = section("DISCOVER-OFFER")?;
    let (_requests, acks) = section("REQUEST-ACK").unwrap_or((0, 0));
    Some(Report { discovers, acks })
}

/// One exchange, for a readiness probe.
pub fn probe(client: &Netns, local: &str, server: &str) -> Report {
    let argv = [
        "perfdhcp",
        "-4",
        "-l",
        local,
        "-n",
        "1",
        "-b",
        "mac=0a:00:00:00:00:01",
        "-d",
        "1",
        server,
    ];
    let out = client.run(&argv);
    parse(&String::from_utf8_lossy(&out.stdout)).unwrap_or_default()
}
