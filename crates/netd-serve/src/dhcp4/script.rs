//! `--dhcp-script`: lease events as dnsmasq passes them to its script —
//! `add|old|del MAC IP [HOSTNAME]` and `DNSMASQ_*` variables — queued in
//! order and handed one at a time to the script runner
//! ([`crate::process::script`]), which runs the script with the daemon's
//! first privileges. No DHCP reply waits for a script: the shell only
//! queues; a script that fails or hangs (killed at the runner's timeout)
//! is logged and the next one runs.
//!
//! Which events run the script, as in dnsmasq: `add` for a new lease,
//! `del` when one ends (released, declined, expired), `old` for each lease
//! held at start-up (with `DNSMASQ_DATA_MISSING=1`) and at each SIGHUP,
//! and for a renewal only
//! when its hostname changed, or always with `--leasefile-ro` (the script
//! then keeps the leases, expiry included).

use std::time::SystemTime;

use netd_proto::MacAddr;
use netd_proto::dhcp4::{LeaseChange, LeaseEvent, LeaseRecord};
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::process::{ScriptCall, ScriptRunner};

/// Events waiting for the script; beyond this, new ones are dropped (and
/// logged): a flood of clients must not grow the daemon without bound.
const QUEUE: usize = 4096;

/// What every call says besides the lease.
#[derive(Debug, Clone)]
pub(crate) struct ScriptContext {
    pub iface: String,
    pub domain: Option<String>,
    pub leasefile_ro: bool,
}

/// The shell's end: where calls are queued.
#[derive(Debug)]
pub(crate) struct ScriptQueue {
    tx: mpsc::Sender<ScriptCall>,
    ctx: ScriptContext,
    dropped: u64,
}

impl ScriptQueue {
    /// The queue, and the task that empties it into `runner`; the task
    /// ends once the queue is closed and drained.
    pub(crate) fn start(
        runner: ScriptRunner,
        ctx: ScriptContext,
    ) -> (ScriptQueue, impl Future<Output = ()> + Send + 'static) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (
            ScriptQueue {
                tx,
                ctx,
                dropped: 0,
            },
            run(runner, rx),
        )
    }

    /// Queues the call `event` makes, if it makes one.
    pub(crate) fn lease_event(&mut self, event: &LeaseEvent) {
        if let Some(call) = call_for(event, &self.ctx, SystemTime::now()) {
            self.queue(call);
        }
    }

    /// Queues `old` for a lease held at start-up.
    pub(crate) fn existing(&mut self, record: &LeaseRecord) {
        let call = existing_call(record, &self.ctx, SystemTime::now());
        self.queue(call);
    }

    /// Queues `old` for a lease held at a SIGHUP.
    pub(crate) fn reloaded(&mut self, record: &LeaseRecord) {
        let mut call = base_call("old", record, &self.ctx, SystemTime::now());
        call.env
            .push(("DNSMASQ_INTERFACE".into(), self.ctx.iface.clone()));
        self.queue(call);
    }

    fn queue(&mut self, call: ScriptCall) {
        if self.tx.try_send(call).is_err() {
            self.dropped += 1;
            if self.dropped.is_power_of_two() {
                warn!(
                    service = "dhcp4",
                    dropped = self.dropped,
                    "--dhcp-script is behind; lease events dropped"
                );
            }
        }
    }
}

async fn run(mut runner: ScriptRunner, mut rx: mpsc::Receiver<ScriptCall>) {
    while let Some(call) = rx.recv().await {
        let joined = tokio::task::spawn_blocking(move || {
            let result = runner.run(&call);
            (runner, call, result)
        })
        .await;
        let Ok((back, call, result)) = joined else {
            warn!(service = "dhcp4", "the --dhcp-script queue stopped");
            return;
        };
        runner = back;
        let script = runner.script.display().to_string();
        let what = call.args.join(" ");
        match result {
            Ok((true, output)) => {
                for line in output.lines().filter(|l| !l.trim().is_empty()) {
                    info!(service = "dhcp4", "script: {line}");
                }
            }
            Ok((false, why)) => {
                warn!(service = "dhcp4", "--dhcp-script {script} {what}: {why}")
            }
            Err(e) => {
                warn!(
                    service = "dhcp4",
                    "--dhcp-script {script}: the runner is gone ({e}); no more scripts"
                );
                return;
            }
        }
    }
}

fn base_call(action: &str, r: &LeaseRecord, ctx: &ScriptContext, now: SystemTime) -> ScriptCall {
    let mut args = vec![
        action.to_owned(),
        MacAddr(r.mac).to_string(),
        r.addr.to_string(),
    ];
    let mut env = Vec::new();
    if let Some(name) = &r.hostname {
        args.push(name.clone());
        if let Some(d) = &ctx.domain {
            env.push(("DNSMASQ_DOMAIN".into(), d.clone()));
        }
    }
    env.push(("DNSMASQ_LEASE_EXPIRES".into(), r.expires.to_string()));
    if r.expires != 0 {
        let now = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        env.push((
            "DNSMASQ_TIME_REMAINING".into(),
            r.expires.saturating_sub(now).to_string(),
        ));
    }
    if let Some(id) = &r.client_id {
        let hex: Vec<String> = id.iter().map(|b| format!("{b:02x}")).collect();
        env.push(("DNSMASQ_CLIENT_ID".into(), hex.join(":")));
    }
    ScriptCall { args, env }
}

fn existing_call(r: &LeaseRecord, ctx: &ScriptContext, now: SystemTime) -> ScriptCall {
    let mut call = base_call("old", r, ctx, now);
    call.env.push(("DNSMASQ_DATA_MISSING".into(), "1".into()));
    call
}

/// The script call `event` makes, or `None` (a renewal that changed
/// nothing the script is told about).
pub(crate) fn call_for(
    event: &LeaseEvent,
    ctx: &ScriptContext,
    now: SystemTime,
) -> Option<ScriptCall> {
    let r = &event.record;
    let info = event.request.as_ref();
    let previous = info.and_then(|i| i.previous_hostname.as_ref());
    let action = match event.change {
        LeaseChange::Added => "add",
        LeaseChange::Renewed if ctx.leasefile_ro || previous != r.hostname.as_ref() => "old",
        LeaseChange::Renewed => return None,
        LeaseChange::Released | LeaseChange::Declined | LeaseChange::Expired => "del",
    };
    let mut call = base_call(action, r, ctx, now);
    call.env
        .push(("DNSMASQ_INTERFACE".into(), ctx.iface.clone()));
    if let Some(i) = info {
        if let Some(h) = &i.supplied_hostname {
            call.env
                .push(("DNSMASQ_SUPPLIED_HOSTNAME".into(), h.clone()));
        }
        if let Some(old) = previous
            && Some(old) != r.hostname.as_ref()
        {
            call.env.push(("DNSMASQ_OLD_HOSTNAME".into(), old.clone()));
        }
        if !i.tags.is_empty() {
            call.env.push(("DNSMASQ_TAGS".into(), i.tags.join(" ")));
        }
        if let Some(relay) = i.relay {
            call.env
                .push(("DNSMASQ_RELAY_ADDRESS".into(), relay.to_string()));
        }
    }
    Some(call)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use netd_proto::dhcp4::RequestInfo;

    use super::*;

    fn ctx(ro: bool) -> ScriptContext {
        ScriptContext {
            iface: "nat0".into(),
            domain: Some("lab".into()),
            leasefile_ro: ro,
        }
    }

    fn event(change: LeaseChange, hostname: Option<&str>, info: Option<RequestInfo>) -> LeaseEvent {
        LeaseEvent {
            change,
            record: LeaseRecord {
                expires: 1_000_100,
                mac: [0x52, 0x54, 0, 0, 0, 1],
                addr: Ipv4Addr::new(192, 168, 26, 5),
                hostname: hostname.map(str::to_owned),
                client_id: Some(vec![1, 0xab]),
            },
            request: info,
        }
    }

    fn env<'a>(c: &'a ScriptCall, k: &str) -> Option<&'a str> {
        c.env
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }

    const NOW: Duration = Duration::from_secs(1_000_000);

    #[test]
    fn add_carries_dnsmasqs_arguments_and_environment() {
        let info = RequestInfo {
            supplied_hostname: Some("web".into()),
            previous_hostname: None,
            relay: Some(Ipv4Addr::new(10, 0, 0, 1)),
            tags: vec!["red".into(), "blue".into()],
        };
        let now = SystemTime::UNIX_EPOCH + NOW;
        let c = call_for(
            &event(LeaseChange::Added, Some("web"), Some(info)),
            &ctx(false),
            now,
        )
        .unwrap();
        assert_eq!(c.args, ["add", "52:54:00:00:00:01", "192.168.26.5", "web"]);
        assert_eq!(env(&c, "DNSMASQ_INTERFACE"), Some("nat0"));
        assert_eq!(env(&c, "DNSMASQ_DOMAIN"), Some("lab"));
        assert_eq!(env(&c, "DNSMASQ_LEASE_EXPIRES"), Some("1000100"));
        assert_eq!(env(&c, "DNSMASQ_TIME_REMAINING"), Some("100"));
        assert_eq!(env(&c, "DNSMASQ_CLIENT_ID"), Some("01:ab"));
        assert_eq!(env(&c, "DNSMASQ_SUPPLIED_HOSTNAME"), Some("web"));
        assert_eq!(env(&c, "DNSMASQ_TAGS"), Some("red blue"));
        assert_eq!(env(&c, "DNSMASQ_RELAY_ADDRESS"), Some("10.0.0.1"));
        assert_eq!(env(&c, "DNSMASQ_OLD_HOSTNAME"), None);
    }

    #[test]
    fn renewals_run_the_script_only_when_the_name_changed_or_leasefile_ro() {
        let now = SystemTime::UNIX_EPOCH + NOW;
        let same = RequestInfo {
            previous_hostname: Some("web".into()),
            ..RequestInfo::default()
        };
        let renewed = event(LeaseChange::Renewed, Some("web"), Some(same));
        assert!(call_for(&renewed, &ctx(false), now).is_none());
        let c = call_for(&renewed, &ctx(true), now).unwrap();
        assert_eq!(c.args[0], "old");
        let renamed = event(
            LeaseChange::Renewed,
            Some("www"),
            Some(RequestInfo {
                previous_hostname: Some("web".into()),
                ..RequestInfo::default()
            }),
        );
        let c = call_for(&renamed, &ctx(false), now).unwrap();
        assert_eq!(c.args, ["old", "52:54:00:00:00:01", "192.168.26.5", "www"]);
        assert_eq!(env(&c, "DNSMASQ_OLD_HOSTNAME"), Some("web"));
    }

    #[test]
    fn ends_are_del_and_start_up_leases_are_old_with_data_missing() {
        let now = SystemTime::UNIX_EPOCH + NOW;
        for change in [
            LeaseChange::Released,
            LeaseChange::Declined,
            LeaseChange::Expired,
        ] {
            let c = call_for(&event(change, None, None), &ctx(false), now).unwrap();
            assert_eq!(c.args, ["del", "52:54:00:00:00:01", "192.168.26.5"]);
        }
        let e = event(LeaseChange::Added, None, None);
        let c = existing_call(&e.record, &ctx(false), now);
        assert_eq!(c.args[0], "old");
        assert_eq!(env(&c, "DNSMASQ_DATA_MISSING"), Some("1"));
        assert_eq!(env(&c, "DNSMASQ_INTERFACE"), None);
    }
}
