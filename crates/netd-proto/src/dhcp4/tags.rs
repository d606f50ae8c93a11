//! dnsmasq's tags: names a request collects (`set:TAG` on the range that
//! served it, on the host's reservation) and that options ask for
//! (`tag:TAG`, `tag:!TAG`).

use std::fmt;

/// A tag name, as given (dnsmasq compares them exactly).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(pub String);

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One condition of an option: the request carries the tag, or does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagMatch {
    /// `tag:TAG`
    Is(Tag),
    /// `tag:!TAG`
    Not(Tag),
}

impl TagMatch {
    fn holds(&self, set: &[Tag]) -> bool {
        match self {
            TagMatch::Is(t) => set.contains(t),
            TagMatch::Not(t) => !set.contains(t),
        }
    }
}

/// True when every condition holds for a request carrying `set`.
pub fn all_match(conditions: &[TagMatch], set: &[Tag]) -> bool {
    conditions.iter().all(|c| c.holds(set))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_condition_must_hold() {
        let (a, b) = (Tag("a".into()), Tag("b".into()));
        assert!(all_match(&[], &[]));
        assert!(all_match(
            &[TagMatch::Is(a.clone())],
            std::slice::from_ref(&a)
        ));
        assert!(!all_match(
            &[TagMatch::Is(a.clone())],
            std::slice::from_ref(&b)
        ));
        assert!(!all_match(
            &[TagMatch::Is(a.clone()), TagMatch::Not(b.clone())],
            &[a.clone(), b.clone()]
        ));
        assert!(all_match(&[TagMatch::Not(b)], &[a]));
    }
}
