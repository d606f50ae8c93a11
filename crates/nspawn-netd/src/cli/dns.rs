//! DNS forwarder options (dnsmasq's names and short letters; `--no-hosts`
//! has no `-h`, which stays `--help`).

use std::path::PathBuf;

use clap::Args;
use netd_proto::dns::RecordSpec;
use netd_proto::dns::config::{AddressRule, ServerSpec};
use netd_serve::dns::InterfaceName;

use crate::settings::dns_records as records;
use crate::settings::values;

#[derive(Debug, Clone, Args)]
pub struct DnsArgs {
    /// The DNS port; 0 turns DNS off (and DHCP then advertises no DNS server).
    #[arg(short = 'p', long, value_name = "PORT", default_value_t = 53)]
    pub port: u16,
    /// An upstream server, `IP[#PORT]`, used besides the resolv file's; or
    /// `/DOMAIN/[DOMAIN/...]IP[#PORT]` for a domain's own server,
    /// `/DOMAIN/` to answer a domain from local names only, `/DOMAIN/#` for
    /// the normal servers.
    /// `--local` is the same option (dnsmasq's synonym, as in `--local=/lan/`).
    #[arg(short = 'S', long, visible_alias = "local", value_name = "SERVER", value_parser = values::server)]
    pub server: Vec<ServerSpec>,
    /// `SUBNET[/LEN],SERVER[#PORT]`: reverse lookups of the subnet go to
    /// SERVER (`--server=/REVERSE-ZONE/SERVER`).
    #[arg(long, value_name = "SUBNET,SERVER", value_parser = records::rev_server)]
    pub rev_server: Vec<ServerSpec>,
    /// Read upstream servers from this file instead of /etc/resolv.conf;
    /// it is watched and re-read when it changes.
    #[arg(short = 'r', long, value_name = "FILE")]
    pub resolv_file: Option<PathBuf>,
    /// Read no resolv file: only --server upstreams.
    #[arg(short = 'R', long)]
    pub no_resolv: bool,
    /// Try upstream servers in the order given, not fastest first.
    #[arg(short = 'o', long)]
    pub strict_order: bool,
    /// Cache at most this many answers; 0 disables the cache.
    #[arg(short = 'c', long, value_name = "ENTRIES", default_value_t = 10_000)]
    pub cache_size: usize,
    /// Do not cache negative answers (NXDOMAIN, NODATA).
    #[arg(short = 'N', long)]
    pub no_negcache: bool,
    /// Cache answers at most this many seconds, and tell clients no longer
    /// TTLs (default one day; 0: no cap, dnsmasq's default).
    #[arg(long, value_name = "SECONDS", value_parser = values::max_cache_ttl)]
    pub max_cache_ttl: Option<u32>,
    /// Cache answers at least this many seconds, raising shorter TTLs (at
    /// most 3600, as dnsmasq; TTL 0 answers stay uncached).
    #[arg(long, value_name = "SECONDS", value_parser = values::min_cache_ttl)]
    pub min_cache_ttl: Option<u32>,
    /// Upstream queries in flight at most; one client may hold a quarter of
    /// them (more while the clients hold less than half). More misses are
    /// dropped until some finish.
    #[arg(short = '0', long, value_name = "QUERIES", default_value_t = netd_serve::dns::DEFAULT_FORWARD_MAX, value_parser = values::forward_max)]
    pub dns_forward_max: usize,
    /// Do not read /etc/hosts.
    #[arg(long)]
    pub no_hosts: bool,
    /// Read another hosts file (besides /etc/hosts); re-read on SIGHUP.
    #[arg(short = 'H', long, value_name = "FILE")]
    pub addn_hosts: Vec<PathBuf>,
    /// Answer a domain and all names below it locally:
    /// `/DOMAIN/[DOMAIN/...]IP`, `/DOMAIN/#` (0.0.0.0 and ::), or
    /// `/DOMAIN/` (NXDOMAIN).
    #[arg(short = 'A', long, value_name = "/DOMAIN/[IP]", value_parser = values::address)]
    pub address: Vec<AddressRule>,
    /// Never forward single-label A/AAAA queries (always on here; accepted
    /// for dnsmasq compatibility).
    #[arg(short = 'D', long)]
    pub domain_needed: bool,
    /// Never forward reverse lookups of private ranges (always on here;
    /// accepted for dnsmasq compatibility).
    #[arg(short = 'b', long)]
    pub bogus_priv: bool,
    /// Add the `--domain` to single-label names of hosts files.
    #[arg(short = 'E', long)]
    pub expand_hosts: bool,
    /// `NAME[,NAME...],[IPv4],[IPv6][,TTL]`: A/AAAA records, and PTR to
    /// the first name.
    #[arg(long, value_name = "NAME,...,ADDRESSES", value_parser = records::host_record)]
    pub host_record: Vec<RecordSpec>,
    /// `ALIAS[,ALIAS...],TARGET[,TTL]`: a CNAME; a local target's records
    /// come with it.
    #[arg(long, value_name = "ALIAS,...,TARGET", value_parser = records::cname)]
    pub cname: Vec<RecordSpec>,
    /// `NAME[,TEXT...]`: a TXT record; quote texts that hold commas.
    #[arg(short = 'Y', long, value_name = "NAME,TEXT", value_parser = records::txt_record)]
    pub txt_record: Vec<RecordSpec>,
    /// `_SERVICE._PROT.[DOMAIN],[TARGET[,PORT[,PRIORITY[,WEIGHT]]]]`: an
    /// SRV record.
    #[arg(short = 'W', long, value_name = "NAME,TARGET", value_parser = records::srv_host)]
    pub srv_host: Vec<RecordSpec>,
    /// `NAME[,TARGET]`: a PTR record.
    #[arg(long, value_name = "NAME,TARGET", value_parser = records::ptr_record)]
    pub ptr_record: Vec<RecordSpec>,
    /// `NAME[[,HOST][,PREFERENCE]]`: an MX record (host: --mx-target or
    /// this host's name; preference 1).
    #[arg(short = 'm', long, value_name = "NAME,HOST,PREF", value_parser = records::mx_host)]
    pub mx_host: Vec<RecordSpec>,
    /// The default host of --mx-host records.
    #[arg(short = 't', long, value_name = "HOST", value_parser = records::mx_target)]
    pub mx_target: Option<String>,
    /// `NAME,INTERFACE[/4|/6]`: NAME answers with the interface's
    /// addresses (read at start), and they answer PTR with NAME.
    #[arg(long, value_name = "NAME,INTERFACE", value_parser = records::interface_name)]
    pub interface_name: Vec<InterfaceName>,
    /// TTL of answers from local data: leases, hosts files, records
    /// (default 0).
    #[arg(short = 'T', long, value_name = "SECONDS", default_value_t = 0)]
    pub local_ttl: u32,
    /// Answer no CHAOS TXT queries for version.bind and the cache counters.
    #[arg(long)]
    pub no_ident: bool,
    /// A DNSSEC trust anchor. Accepted for dnsmasq compatibility (Debian's
    /// service passes the root's): dnsmasq uses it only with --dnssec,
    /// which nspawn-netd does not support and rejects.
    #[arg(long, value_name = "DOMAIN,KEYTAG,ALG,DIGESTTYPE,DIGEST")]
    pub trust_anchor: Vec<String>,
}

impl Default for DnsArgs {
    fn default() -> Self {
        DnsArgs {
            port: 53,
            server: Vec::new(),
            rev_server: Vec::new(),
            resolv_file: None,
            no_resolv: false,
            strict_order: false,
            cache_size: 10_000,
            no_negcache: false,
            max_cache_ttl: None,
            min_cache_ttl: None,
            dns_forward_max: netd_serve::dns::DEFAULT_FORWARD_MAX,
            no_hosts: false,
            addn_hosts: Vec::new(),
            address: Vec::new(),
            domain_needed: false,
            bogus_priv: false,
            expand_hosts: false,
            host_record: Vec::new(),
            cname: Vec::new(),
            txt_record: Vec::new(),
            srv_host: Vec::new(),
            ptr_record: Vec::new(),
            mx_host: Vec::new(),
            mx_target: None,
            interface_name: Vec::new(),
            local_ttl: 0,
            no_ident: false,
            trust_anchor: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::Cli;

    #[test]
    fn dns_options_parse_with_dnsmasq_letters() {
        let cli = Cli::try_parse_from([
            "nspawn-netd",
            "-S",
            "203.0.113.2#5353",
            "--server=/corp/10.0.0.1",
            "-r",
            "/run/resolv.conf",
            "-o",
            "-c",
            "500",
            "-N",
            "--max-cache-ttl=3600",
            "--min-cache-ttl=7200",
            "-0",
            "40",
            "--no-hosts",
            "-H",
            "/etc/more-hosts",
            "-A",
            "/ads.test/#",
            "-D",
            "-b",
        ])
        .unwrap();
        let d = &cli.daemon.dns;
        assert_eq!(
            d.server,
            ["203.0.113.2#5353", "/corp/10.0.0.1"]
                .map(|s| crate::settings::values::server(s).unwrap())
        );
        assert_eq!(
            d.resolv_file.as_deref(),
            Some(std::path::Path::new("/run/resolv.conf"))
        );
        assert!(d.strict_order && d.no_negcache && d.no_hosts && d.domain_needed && d.bogus_priv);
        assert_eq!(d.cache_size, 500);
        assert_eq!(d.max_cache_ttl, Some(3600));
        assert_eq!(d.min_cache_ttl, Some(3600), "capped at an hour, as dnsmasq");
        assert_eq!(d.dns_forward_max, 40);
        assert_eq!(d.addn_hosts.len(), 1);
        assert_eq!(
            d.address,
            [crate::settings::values::address("/ads.test/#").unwrap()]
        );
        let cli = Cli::try_parse_from(["nspawn-netd", "-R", "--max-cache-ttl=0"]).unwrap();
        assert!(cli.daemon.dns.no_resolv);
        assert_eq!(cli.daemon.dns.max_cache_ttl, Some(u32::MAX), "0: no cap");
        let e = Cli::try_parse_from(["nspawn-netd", "--dns-forward-max=0"]).unwrap_err();
        assert!(e.to_string().contains("dns-forward-max"), "{e}");
    }
}
