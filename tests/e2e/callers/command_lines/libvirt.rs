//! libvirt's dnsmasq command line and the config files it writes: Debian's
//! `default` network as libvirt's source builds it, and the files a run of
//! `libvirt/` captured for its networks.

/// libvirt 9.0.0 (Debian 12 `libvirt-daemon` 9.0.0-4+deb12u2;
/// `src/network/bridge_driver.c`, `networkBuildDhcpDaemonCommandLine()`):
/// `virsh net-start NETWORK` writes [`LIBVIRT_DEFAULT_CONF`] (mode 0600) and
/// runs this with `VIR_BRIDGE_NAME={BRIDGE}` in the environment; dnsmasq
/// forks, and libvirt reads the pid file named in the config. The lease
/// helper keeps its own `/var/lib/libvirt/dnsmasq/{BRIDGE}.status`.
///
/// - `{NETWORK}`: the network's name (`default`).
pub const LIBVIRT_NETWORK: &[&str] = &[
    "/usr/sbin/dnsmasq",
    "--conf-file=/var/lib/libvirt/dnsmasq/{NETWORK}.conf",
    "--leasefile-ro",
    "--dhcp-script=/usr/lib/libvirt/libvirt_leaseshelper",
];

/// The file libvirt 9.0.0 (`networkDnsmasqConfContents()`) writes for
/// Debian's `default` network (`libvirt-daemon-config-network`:
/// `virbr0`, NAT, `192.168.122.1/255.255.255.0`, range `.2`-`.254`), the
/// one option a line. `<dns enable='no'>` gives `port=0`; DNS forwarders
/// give `server=` lines (and `no-resolv`); a `<domain>` gives
/// `domain=`/`expand-hosts` (and `local=/D/` when `localOnly`);
/// `forwardPlainNames='no'` gives `domain-needed` and `local=//`; an
/// isolated network gives `dhcp-option=3`, `no-resolv` and
/// `ra-param=*,0,0`; IPv6 gives `dhcp-range=A,B,PREFIX` or
/// `dhcp-range=ADDR,ra-only` and `enable-ra`; `<mtu>` gives
/// `dhcp-option=option:mtu,N`. Upstream's test data for more cases:
/// `tests/networkxml2confdata/*.conf`.
pub const LIBVIRT_DEFAULT_CONF: &str = "\
##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
##OVERWRITTEN AND LOST.  Changes to this configuration should be made using:
##    virsh net-edit default
## or other application using the libvirt API.
##
## dnsmasq conf file created by libvirt
strict-order
pid-file=/run/libvirt/network/default.pid
except-interface=lo
bind-dynamic
interface=virbr0
dhcp-range=192.168.122.2,192.168.122.254,255.255.255.0
dhcp-no-override
dhcp-authoritative
dhcp-lease-max=253
dhcp-hostsfile=/var/lib/libvirt/dnsmasq/default.hostsfile
addn-hosts=/var/lib/libvirt/dnsmasq/default.addnhosts
";

/// The file libvirt 9.0.0 wrote, captured from a run of `libvirt.rs`, for
/// its network `lab`: NAT on `virbr0`, `192.168.122.1/24`, `<domain
/// name='lab.test'/>` (hence `domain=` and `expand-hosts`), a `<range>`
/// `.100`-`.199` (hence a lease maximum of 100), a `<dhcp><host>`
/// reservation ([`LIBVIRT_NAT_HOSTSFILE`]) and a `<dns><host>`
/// ([`LIBVIRT_NAT_ADDNHOSTS`]).
pub const LIBVIRT_NAT_CONF: &str = "\
##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
##OVERWRITTEN AND LOST.  Changes to this configuration should be made using:
##    virsh net-edit lab
## or other application using the libvirt API.
##
## dnsmasq conf file created by libvirt
strict-order
domain=lab.test
expand-hosts
pid-file=/run/libvirt/network/lab.pid
except-interface=lo
bind-dynamic
interface=virbr0
dhcp-range=192.168.122.100,192.168.122.199,255.255.255.0
dhcp-no-override
dhcp-authoritative
dhcp-lease-max=100
dhcp-hostsfile=/var/lib/libvirt/dnsmasq/lab.hostsfile
addn-hosts=/var/lib/libvirt/dnsmasq/lab.addnhosts
";

/// [`LIBVIRT_NAT_CONF`] for the same network without its `<domain>`,
/// captured the same way: no `domain=`, no `expand-hosts`.
pub const LIBVIRT_NAT_NO_DOMAIN_CONF: &str = "\
##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
##OVERWRITTEN AND LOST.  Changes to this configuration should be made using:
##    virsh net-edit lab
## or other application using the libvirt API.
##
## dnsmasq conf file created by libvirt
strict-order
pid-file=/run/libvirt/network/lab.pid
except-interface=lo
bind-dynamic
interface=virbr0
dhcp-range=192.168.122.100,192.168.122.199,255.255.255.0
dhcp-no-override
dhcp-authoritative
dhcp-lease-max=100
dhcp-hostsfile=/var/lib/libvirt/dnsmasq/lab.hostsfile
addn-hosts=/var/lib/libvirt/dnsmasq/lab.addnhosts
";

/// `/var/lib/libvirt/dnsmasq/lab.hostsfile` beside [`LIBVIRT_NAT_CONF`]:
/// one `dhcp-host` value a line (`<host mac= ip= name=>`).
pub const LIBVIRT_NAT_HOSTSFILE: &str = "52:54:00:6c:76:01,192.168.122.77,guest\n";

/// `/var/lib/libvirt/dnsmasq/lab.addnhosts` beside [`LIBVIRT_NAT_CONF`]:
/// a hosts file (`<dns><host>`), a tab after the address and after each
/// name.
pub const LIBVIRT_NAT_ADDNHOSTS: &str = "192.168.122.50\tpeer\t\n";

/// The file libvirt 9.0.0 wrote, captured from a run of
/// `libvirt/isolated.rs`, for its network `iso`: no `<forward>` (isolated:
/// `dhcp-option=3` with no router, `no-resolv`, `ra-param=*,0,0`), `<mtu
/// size='9000'/>`, `<domain name='iso.test' localOnly='yes'/>` (`local=`),
/// `<dns forwardPlainNames='no'>` (`domain-needed`, `local=//`) with a
/// `<forwarder>` (`server=`, `no-resolv`), an IPv4 range `.100`-`.199` and
/// a stateful IPv6 range (`A,B,PREFIX`, hence `enable-ra` and a lease
/// maximum of 100 + 256). The hosts files are written, empty, even with no
/// `<host>`.
pub const LIBVIRT_ISOLATED_CONF: &str = "\
##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
##OVERWRITTEN AND LOST.  Changes to this configuration should be made using:
##    virsh net-edit iso
## or other application using the libvirt API.
##
## dnsmasq conf file created by libvirt
strict-order
server=192.0.2.53
no-resolv
local=/iso.test/
domain=iso.test
expand-hosts
domain-needed
local=//
pid-file=/run/libvirt/network/iso.pid
except-interface=lo
bind-dynamic
interface=virbr1
dhcp-option=3
no-resolv
ra-param=*,0,0
dhcp-range=192.168.123.100,192.168.123.199,255.255.255.0
dhcp-no-override
dhcp-authoritative
dhcp-range=fd00:1:2:3::100,fd00:1:2:3::1ff,64
dhcp-lease-max=356
dhcp-hostsfile=/var/lib/libvirt/dnsmasq/iso.hostsfile
addn-hosts=/var/lib/libvirt/dnsmasq/iso.addnhosts
dhcp-option=option:mtu,9000
enable-ra
";
