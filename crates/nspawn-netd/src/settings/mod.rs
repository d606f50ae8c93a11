//! Typed settings with provenance: every option source (the command line,
//! `--conf-file`/`--conf-dir` files, `--config` TOML, `/etc/dnsmasq.conf`
//! when run as `dnsmasq`) is read once ([`sources`]), every value parsed
//! once ([`values`]) into the type its service takes, and each value keeps
//! where it was given ([`Sourced`]), before any socket or interface is
//! touched. A bad value is an error naming the option and the file and line.
//!
//! Nothing here is kept as a string to be parsed again later.

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use clap::{ArgMatches, CommandFactory, FromArgMatches};
use netd_proto::dns::TtlLimits;
use netd_serve::control::ControlSettings;
use netd_serve::dhcp4::Dhcp4Settings;
use netd_serve::dns::DnsSettings;
use netd_serve::dns::service::{DEFAULT_RESOLV_FILE, SYSTEM_HOSTS};
use netd_serve::metrics::MetricsSettings;
use netd_serve::ra::Ipv6Settings;
use netd_serve::settings::{Origin, Sourced};

use crate::cli::{Cli, DEFAULT_LEASE_FILE, DaemonArgs};

pub mod dhcp_host;
pub mod dhcp_option;
pub mod dhcp_range;
pub mod dns_records;
pub mod dns_values;
pub mod ipv6_range;
mod observe;
pub mod sources;
pub mod values;

use dhcp_option::DhcpOptionSpec;
use dhcp_range::DhcpRange;
use netd_proto::dhcp4::Dhcp4Option;
use netd_proto::dhcp6::Dhcp6Option;
use sources::Item;

/// Which program the process was started as: `dnsmasq` (through a link or a
/// bind mount over `/usr/sbin/dnsmasq`) or `nspawn-netd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    NspawnNetd,
    Dnsmasq,
}

impl Identity {
    /// From `argv[0]`'s file name.
    pub fn of(argv0: Option<&std::ffi::OsStr>) -> Identity {
        let name = argv0
            .map(Path::new)
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .unwrap_or("");
        if name == "dnsmasq" {
            Identity::Dnsmasq
        } else {
            Identity::NspawnNetd
        }
    }

    /// The prefix of the program's messages, as callers expect it.
    pub fn name(self) -> &'static str {
        match self {
            Identity::NspawnNetd => "nspawn-netd",
            Identity::Dnsmasq => "dnsmasq",
        }
    }
}

/// A configuration that does not parse, or does not fit together.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    Source(#[from] sources::SourceError),
    /// clap's own message: usage errors, unknown options on the command line.
    #[error("{0}")]
    Parse(String),
    /// `--help` or `--version`: print and exit 0.
    #[error("{0}")]
    Display(String),
    #[error("{0}")]
    Invalid(String),
}

/// The command line as parsed, with where each value came from.
#[derive(Debug)]
pub struct Loaded {
    pub identity: Identity,
    pub cli: Cli,
    matches: ArgMatches,
    /// The origin of each of the parser's tokens ([`token_origins`]).
    origins: Vec<Origin>,
}

/// Reads every source and parses every value.
pub fn load(argv: Vec<OsString>) -> Result<Loaded, SettingsError> {
    let identity = Identity::of(argv.first().map(OsString::as_os_str));
    let cmd = Cli::command();
    let subcommand = argv
        .get(1)
        .and_then(|a| a.to_str())
        .filter(|a| cmd.find_subcommand(a).is_some())
        .map(str::to_owned);
    let scope = subcommand
        .as_deref()
        .and_then(|s| cmd.find_subcommand(s))
        .unwrap_or(&cmd);
    let known = known_options(scope);
    let default_conf = (identity == Identity::Dnsmasq && subcommand.is_none())
        .then(|| Path::new(sources::DNSMASQ_CONF));
    let items = sources::expand(argv, &known, default_conf)?;
    check_file_values(subcommand.as_deref(), scope, &items)?;
    let matches = Cli::command()
        .try_get_matches_from(items.iter().map(|i| i.arg.clone()))
        .map_err(clap_error)?;
    let cli = Cli::from_arg_matches(&matches).map_err(clap_error)?;
    let origins = token_origins(scope, &items);
    Ok(Loaded {
        identity,
        cli,
        matches,
        origins,
    })
}

/// The origin of each of the parser's tokens. The parser numbers a flag
/// and its value separately, so `--key=value` and `-xVALUE` are two tokens,
/// and each flag of a cluster such as `-kd` is one.
fn token_origins(cmd: &clap::Command, items: &[Item]) -> Vec<Origin> {
    let takes_value = |c: char| {
        cmd.get_arguments()
            .find(|a| a.get_short() == Some(c))
            .is_some_and(|a| a.get_action().takes_values())
    };
    let mut out = Vec::with_capacity(items.len() * 2);
    let mut rest_positional = false;
    for item in items {
        let arg = item.arg.to_string_lossy();
        let tokens = if rest_positional || !arg.starts_with('-') || arg == "-" {
            1
        } else if arg == "--" {
            rest_positional = true;
            1
        } else if let Some(long) = arg.strip_prefix("--") {
            if long.contains('=') { 2 } else { 1 }
        } else {
            let shorts: Vec<char> = arg[1..].chars().collect();
            let mut n = 0;
            for (i, c) in shorts.iter().enumerate() {
                n += 1;
                if takes_value(*c) {
                    if i + 1 < shorts.len() {
                        n += 1;
                    }
                    break;
                }
            }
            n.max(1)
        };
        out.extend(std::iter::repeat_n(item.origin.clone(), tokens));
    }
    out
}

fn clap_error(e: clap::Error) -> SettingsError {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            SettingsError::Display(e.render().to_string())
        }
        _ => SettingsError::Parse(e.render().to_string().trim_end().to_owned()),
    }
}

/// The long names (and aliases) of the options of `cmd`.
fn known_options(cmd: &clap::Command) -> Vec<String> {
    cmd.get_arguments()
        .flat_map(|a| {
            a.get_long()
                .into_iter()
                .chain(a.get_all_aliases().unwrap_or_default())
                .map(str::to_owned)
        })
        .collect()
}

/// Runs each value that came from a file through its option's parser, so
/// a bad one is reported with the file and line rather than only as a
/// command-line argument.
fn check_file_values(
    subcommand: Option<&str>,
    cmd: &clap::Command,
    items: &[Item],
) -> Result<(), SettingsError> {
    for item in items {
        if item.origin == Origin::CommandLine {
            continue;
        }
        let text = item.arg.to_string_lossy();
        let Some(body) = text.strip_prefix("--") else {
            continue;
        };
        let (key, value) = match body.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (body, None),
        };
        let Some(arg) = cmd.get_arguments().find(|a| {
            a.get_long() == Some(key) || a.get_all_aliases().unwrap_or_default().contains(&key)
        }) else {
            continue;
        };
        let takes_value = arg.get_action().takes_values();
        let bad = |m: String| SettingsError::Invalid(format!("{}: {m}", item.origin));
        match (takes_value, value) {
            (false, Some(v)) => return Err(bad(format!("{key} takes no value (got {v:?})"))),
            (true, None) if arg.get_num_args().is_none_or(|n| n.min_values() > 0) => {
                return Err(bad(format!("{key} needs a value")));
            }
            (true, Some(v)) => {
                let alone = ["nspawn-netd"]
                    .into_iter()
                    .chain(subcommand)
                    .map(OsString::from)
                    .chain([item.arg.clone()]);
                if let Err(e) = Cli::command().try_get_matches_from(alone) {
                    let reason = std::error::Error::source(&e)
                        .map(ToString::to_string)
                        .unwrap_or_else(|| first_line(&e.render().to_string()));
                    return Err(bad(format!("--{key}={v}: {reason}")));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned()
}

impl Loaded {
    /// The daemon's settings, from the top level or from `up`'s.
    pub fn daemon_settings(&self, args: &DaemonArgs) -> Result<DaemonSettings, SettingsError> {
        let m = match self.matches.subcommand() {
            Some((_, sub)) => sub,
            None => &self.matches,
        };
        DaemonSettings::build(
            args,
            self.identity,
            &Provenance {
                m,
                origins: &self.origins,
            },
        )
    }
}

/// `--dhcp-option`s by protocol, each with where it was given.
fn split_options(
    all: impl Iterator<Item = Sourced<DhcpOptionSpec>>,
) -> (Vec<Sourced<Dhcp4Option>>, Vec<Sourced<Dhcp6Option>>) {
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    for o in all {
        match o.value {
            DhcpOptionSpec::V4(x) => v4.push(Sourced::new(x, o.option, o.text, o.origin)),
            DhcpOptionSpec::V6 { option, .. } => {
                v6.push(Sourced::new(option, o.option, o.text, o.origin))
            }
        }
    }
    (v4, v6)
}

/// Where each value of an option came from.
struct Provenance<'a> {
    m: &'a ArgMatches,
    origins: &'a [Origin],
}

impl Provenance<'_> {
    /// Pairs each parsed value of option `id` with its text and origin.
    fn sourced<T: Clone>(&self, id: &str, option: &'static str, values: &[T]) -> Vec<Sourced<T>> {
        let raw: Vec<String> = self
            .m
            .get_raw(id)
            .map(|r| r.map(|v| v.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let indices: Vec<usize> = self
            .m
            .indices_of(id)
            .map(Iterator::collect)
            .unwrap_or_default();
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let origin = indices
                    .get(i)
                    .and_then(|&ix| self.origins.get(ix))
                    .cloned()
                    .unwrap_or(Origin::CommandLine);
                let text = raw.get(i).cloned().unwrap_or_default();
                Sourced::new(v.clone(), option, text, origin)
            })
            .collect()
    }
}

/// How the process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// dnsmasq's default: fork, and return once the daemon serves.
    Fork,
    /// `-k`: stay in front (systemd's Type=notify, a supervisor).
    Foreground,
    /// `-d`: stay in front and log to stderr.
    Debug,
}

/// Where logs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    Stderr,
    File(PathBuf),
    /// A syslog facility, e.g. `daemon`, `local0`.
    Syslog(String),
}

/// What the options say about logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    pub target: LogTarget,
    pub log_dhcp: bool,
    pub log_queries: bool,
    pub quiet_dhcp: bool,
    pub quiet_dhcp6: bool,
    pub quiet_ra: bool,
}

/// The process: how it runs, as whom, its pid file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSettings {
    pub mode: RunMode,
    /// The user to serve as after binding; `None` keeps the current one.
    pub user: Option<String>,
    pub group: Option<String>,
    pub pid_file: Option<PathBuf>,
}

/// Everything the daemon needs, parsed and checked.
#[derive(Debug, Clone)]
pub struct DaemonSettings {
    /// `--interface`; `None` until inferred from `--listen-address`.
    pub interface: Option<String>,
    pub listen_addresses: Vec<IpAddr>,
    pub domain: Option<String>,
    pub dhcp4: Dhcp4Settings,
    pub dns: DnsSettings,
    pub ipv6: Ipv6Settings,
    pub control: ControlSettings,
    pub metrics: MetricsSettings,
    pub process: ProcessSettings,
    pub log: LogSettings,
}

/// Where dnsmasq writes its pid when no `--pid-file` is given.
pub const DNSMASQ_PID_FILE: &str = "/run/dnsmasq.pid";

/// dnsmasq runs as `nobody` unless told otherwise.
pub const DEFAULT_USER: &str = "nobody";

impl DaemonSettings {
    fn build(
        a: &DaemonArgs,
        identity: Identity,
        p: &Provenance<'_>,
    ) -> Result<DaemonSettings, SettingsError> {
        let c = &a.common;
        let interface = match c.interface.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            many => {
                return Err(SettingsError::Invalid(format!(
                    "serving more than one interface ({}) is not supported; run one daemon per bridge",
                    many.join(", ")
                )));
            }
        };
        if let Some(i) = &interface
            && c.except_interface.contains(i)
        {
            return Err(SettingsError::Invalid(format!(
                "--interface={i} is also given as --except-interface"
            )));
        }
        let ranges = p.sourced("dhcp_range", "dhcp-range", &c.dhcp_range);
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for r in ranges {
            match &r.value {
                DhcpRange::V4(x) => v4.push(Sourced::new(
                    x.clone(),
                    r.option,
                    r.text.clone(),
                    r.origin.clone(),
                )),
                DhcpRange::V6(x) => v6.push(Sourced::new(
                    x.clone(),
                    r.option,
                    r.text.clone(),
                    r.origin.clone(),
                )),
            }
        }
        let (dhcp4_options, dhcp6_options) = split_options(
            p.sourced("dhcp_option", "dhcp-option", &a.dhcp4.dhcp_option)
                .into_iter()
                .chain(p.sourced(
                    "dhcp_option_force",
                    "dhcp-option-force",
                    &a.dhcp4.dhcp_option_force,
                )),
        );
        let dhcp4 = Dhcp4Settings {
            ranges: v4,
            hosts: p.sourced("dhcp_host", "dhcp-host", &a.dhcp4.dhcp_host),
            hosts_files: netd_serve::dhcp4::HostsFiles {
                files: a.dhcp4.dhcp_hostsfile.clone(),
                dirs: a.dhcp4.dhcp_hostsdir.clone(),
            },
            opts_files: netd_serve::dhcp4::OptsFiles {
                files: netd_serve::dhcp4::HostsFiles {
                    files: a.dhcp4.dhcp_optsfile.clone(),
                    dirs: a.dhcp4.dhcp_optsdir.clone(),
                },
                parser: Some(dhcp_option::file_line_parser()),
            },
            lease_file: a
                .dhcp4
                .dhcp_leasefile
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_LEASE_FILE)),
            lease_max: a.dhcp4.dhcp_lease_max,
            script: a.dhcp4.dhcp_script.clone(),
            leasefile_ro: a.dhcp4.leasefile_ro,
            options: dhcp4_options,
            rapid_commit: a.dhcp4.dhcp_rapid_commit,
            ignore_client_id: a.dhcp4.dhcp_ignore_clid,
        };
        let d = &a.dns;
        let mut hosts_files = Vec::new();
        if !d.no_hosts {
            hosts_files.push(PathBuf::from(SYSTEM_HOSTS));
        }
        hosts_files.extend(d.addn_hosts.iter().cloned());
        let dns = DnsSettings {
            port: d.port,
            servers: [
                p.sourced("server", "server", &d.server),
                p.sourced("rev_server", "rev-server", &d.rev_server),
            ]
            .concat(),
            addresses: p.sourced("address", "address", &d.address),
            resolv_file: (!d.no_resolv).then(|| {
                d.resolv_file
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_RESOLV_FILE))
            }),
            strict_order: d.strict_order,
            cache_size: d.cache_size,
            negcache: !d.no_negcache,
            ttls: ttl_limits(d)?,
            forward_max: d.dns_forward_max,
            hosts_files,
            expand_hosts: d.expand_hosts,
            records: local_records(p, d, c.domain.as_deref()),
            interface_names: p.sourced("interface_name", "interface-name", &d.interface_name),
            interface_addrs: Default::default(),
            local_ttl: d.local_ttl,
            no_ident: d.no_ident,
            hostname: None,
        };
        let ipv6 = Ipv6Settings {
            ranges: v6,
            enable_ra: a.ipv6.enable_ra,
            ra_params: p.sourced("ra_param", "ra-param", &a.ipv6.ra_param),
            dhcp6_options,
        };
        let mode = if c.no_daemon {
            RunMode::Debug
        } else if c.keep_in_foreground {
            RunMode::Foreground
        } else {
            RunMode::Fork
        };
        let target = match c.log_facility.as_deref() {
            None if mode == RunMode::Fork => LogTarget::Syslog("daemon".into()),
            None | Some("-") => LogTarget::Stderr,
            Some(f) if f.starts_with('/') => LogTarget::File(PathBuf::from(f)),
            Some(f) if syslog_facility(f).is_some() => LogTarget::Syslog(f.to_owned()),
            Some(f) => {
                return Err(SettingsError::Invalid(format!(
                    "--log-facility={f}: not a file (an absolute path), - or a syslog facility"
                )));
            }
        };
        let target = if mode == RunMode::Debug {
            LogTarget::Stderr
        } else {
            target
        };
        Ok(DaemonSettings {
            interface,
            listen_addresses: c.listen_address.clone(),
            domain: c.domain.clone(),
            dhcp4,
            dns,
            ipv6,
            control: observe::control(&a.observe),
            metrics: observe::metrics(&a.observe, p),
            process: ProcessSettings {
                mode,
                user: Some(c.user.clone().unwrap_or_else(|| DEFAULT_USER.to_owned())),
                group: c.group.clone(),
                pid_file: match (&c.pid_file, identity) {
                    (Some(p), _) => Some(p.clone()).filter(|p| !p.as_os_str().is_empty()),
                    // dnsmasq writes its pid file unless told otherwise.
                    (None, Identity::Dnsmasq) => Some(PathBuf::from(DNSMASQ_PID_FILE)),
                    (None, Identity::NspawnNetd) => None,
                },
            },
            log: LogSettings {
                target,
                log_dhcp: c.log_dhcp,
                log_queries: c.log_queries,
                quiet_dhcp: c.quiet_dhcp,
                quiet_dhcp6: c.quiet_dhcp6,
                quiet_ra: c.quiet_ra,
            },
        })
    }
}

/// `--min-cache-ttl` and `--max-cache-ttl`, which must not cross.
/// The record options in one list, completed: `--srv-host` names without
/// a domain get `--domain`, `--mx-host` without a host gets `--mx-target`
/// or this host's name.
fn local_records(
    p: &Provenance<'_>,
    d: &crate::cli::DnsArgs,
    domain: Option<&str>,
) -> Vec<Sourced<netd_proto::dns::RecordSpec>> {
    let mut all = [
        p.sourced("host_record", "host-record", &d.host_record),
        p.sourced("cname", "cname", &d.cname),
        p.sourced("txt_record", "txt-record", &d.txt_record),
        p.sourced("srv_host", "srv-host", &d.srv_host),
        p.sourced("ptr_record", "ptr-record", &d.ptr_record),
        p.sourced("mx_host", "mx-host", &d.mx_host),
    ]
    .concat();
    let mx_default = d.mx_target.clone().or_else(netd_serve::dns::hostname);
    for r in &mut all {
        dns_records::complete(&mut r.value, domain, mx_default.as_deref());
    }
    all
}

fn ttl_limits(d: &crate::cli::DnsArgs) -> Result<TtlLimits, SettingsError> {
    let defaults = TtlLimits::default();
    let ttls = TtlLimits {
        min: d.min_cache_ttl.unwrap_or(defaults.min),
        max: d.max_cache_ttl.unwrap_or(defaults.max),
    };
    if ttls.min > ttls.max {
        return Err(SettingsError::Invalid(format!(
            "--min-cache-ttl={} is above --max-cache-ttl={}",
            ttls.min, ttls.max
        )));
    }
    Ok(ttls)
}

/// The syslog facility code of `name` (RFC 5424 numbering).
pub fn syslog_facility(name: &str) -> Option<u8> {
    Some(match name {
        "kern" => 0,
        "user" => 1,
        "mail" => 2,
        "daemon" => 3,
        "auth" => 4,
        "syslog" => 5,
        "lpr" => 6,
        "news" => 7,
        "uucp" => 8,
        "cron" => 9,
        "authpriv" => 10,
        "ftp" => 11,
        "local0" => 16,
        "local1" => 17,
        "local2" => 18,
        "local3" => 19,
        "local4" => 20,
        "local5" => 21,
        "local6" => 22,
        "local7" => 23,
        _ => return None,
    })
}

#[cfg(test)]
mod option_tests;
#[cfg(test)]
mod tests;
