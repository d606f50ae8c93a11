//! IPv6 Router Advertisements: codec, scheduler and the raw ICMPv6 shell.
