//! How many forwarded queries may be in flight: at most `--dns-forward-max`
//! upstream exchanges at once (dnsmasq's default is 150), and from any one
//! client address a quarter of that, or more while the clients together
//! hold less than half (a lone busy client is not held back for nothing);
//! queries that wait for another's exchange count too. A query over either
//! limit is dropped (UDP; the client retries) or answered SERVFAIL (TCP),
//! so one container asking for a zone that never answers cannot take more
//! than half the slots, nor hold a socket or a task per query.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// dnsmasq's `--dns-forward-max` default.
pub const DEFAULT_FORWARD_MAX: usize = 150;

/// The share of the forward limit one source may always hold: a quarter.
/// Beyond it a source is let in only while all together hold less than
/// half, so a busy or hostile container leaves at least half to the others.
pub(crate) fn per_source_max(forward_max: usize) -> usize {
    (forward_max / 4).max(1)
}

#[derive(Debug)]
pub(crate) struct ForwardLimits {
    forward_max: usize,
    per_source: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    exchanges: usize,
    by_source: HashMap<IpAddr, usize>,
    /// The sum of `by_source`.
    held: usize,
}

/// A query's place in its source's share; given back on drop.
#[derive(Debug)]
pub(crate) struct SourceSlot {
    limits: Arc<ForwardLimits>,
    source: IpAddr,
}

/// One of the `--dns-forward-max` upstream exchanges; given back on drop.
#[derive(Debug)]
pub(crate) struct ExchangeSlot {
    limits: Arc<ForwardLimits>,
}

impl ForwardLimits {
    pub(crate) fn new(forward_max: usize) -> ForwardLimits {
        ForwardLimits {
            forward_max,
            per_source: per_source_max(forward_max),
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for a query from `source`, or `None` when it holds its share
    /// and the clients together hold half the limit.
    pub(crate) fn source(self: &Arc<Self>, source: IpAddr) -> Option<SourceSlot> {
        let mut st = self.state();
        let crowded = st.held >= self.forward_max / 2;
        let held = st.by_source.entry(source).or_insert(0);
        if *held >= self.per_source && crowded {
            return None;
        }
        *held += 1;
        st.held += 1;
        Some(SourceSlot {
            limits: self.clone(),
            source,
        })
    }

    /// An upstream exchange, or `None` when `--dns-forward-max` are running.
    pub(crate) fn exchange(self: &Arc<Self>) -> Option<ExchangeSlot> {
        let mut st = self.state();
        if st.exchanges >= self.forward_max {
            return None;
        }
        st.exchanges += 1;
        Some(ExchangeSlot {
            limits: self.clone(),
        })
    }

    /// Upstream exchanges running now.
    #[cfg(test)]
    pub(crate) fn exchanges(&self) -> usize {
        self.state().exchanges
    }
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut st = self.limits.state();
        if let Some(held) = st.by_source.get_mut(&self.source) {
            *held -= 1;
            if *held == 0 {
                st.by_source.remove(&self.source);
            }
            st.held -= 1;
        }
    }
}

impl Drop for ExchangeSlot {
    fn drop(&mut self) {
        self.limits.state().exchanges -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_source_holds_a_quarter_when_crowded_and_all_together_forward_max() {
        let limits = Arc::new(ForwardLimits::new(8));
        let a: IpAddr = "192.168.26.50".parse().unwrap();
        let b: IpAddr = "192.168.26.51".parse().unwrap();
        // Alone, a may go past its quarter (2) up to half the limit (4).
        let a_slots: Vec<_> = (0..4).map(|_| limits.source(a).unwrap()).collect();
        assert!(limits.source(a).is_none(), "half the limit is held");
        let b_slots: Vec<_> = (0..2).map(|_| limits.source(b).unwrap()).collect();
        assert!(
            limits.source(b).is_none(),
            "b has its quarter, and it is crowded"
        );
        drop(a_slots);
        assert!(limits.source(a).is_some(), "given back on drop");
        drop(b_slots);
        assert!(
            limits.state().by_source.is_empty(),
            "no entry kept per idle source"
        );
        assert_eq!(limits.state().held, 0);
        let exchanges: Vec<_> = (0..8).map(|_| limits.exchange().unwrap()).collect();
        assert!(limits.exchange().is_none());
        assert_eq!(limits.exchanges(), 8);
        drop(exchanges);
        assert_eq!(limits.exchanges(), 0);
        assert_eq!(per_source_max(DEFAULT_FORWARD_MAX), 37);
        assert_eq!(per_source_max(1), 1);
    }
}
