//! The DNS forwarder: cache, local names, upstream selection.
