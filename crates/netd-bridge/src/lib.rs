//! Host network setup for nspawn-netd: the bridge, its addresses, forwarding
//! sysctls and NAT44/NAT66 over nf_tables netlink.
