//! Stateless DHCPv6: answers Information-Request with DNS information.
