//! Progress of a bootstrap, read from the tool's output lines. Pure: the
//! caller feeds lines and prints what comes out with its own clock.
//!
//! debootstrap prints `I: Retrieving PKG VERSION` and `I: Validating …`
//! (interleaved: each package is checked as it arrives), `I: Extracting …`, then `I: Unpacking …`/`I: Configuring …` while it
//! installs; pacstrap prints `:: Retrieving packages...`, `(n/N) checking
//! package integrity`, `(n/N) installing PKG`.

use std::fmt;

/// The stages of a bootstrap, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Reading the archive's index and resolving dependencies.
    Preparing,
    /// Downloading packages.
    Retrieving,
    /// Checking package checksums and signatures.
    Validating,
    /// Extracting the essential packages into the target.
    Extracting,
    /// Unpacking and configuring every package inside the target.
    Installing,
    /// The tool said it finished.
    Done,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Preparing => "preparing",
            Phase::Retrieving => "retrieving packages",
            Phase::Validating => "validating packages",
            Phase::Extracting => "extracting packages",
            Phase::Installing => "installing packages",
            Phase::Done => "done",
        })
    }
}

/// What one line meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// A new phase began; `previous` ended after `items` package lines.
    PhaseChanged {
        phase: Phase,
        previous: Phase,
        items: usize,
    },
    /// One more package in the current phase; `count` so far in it.
    Item { phase: Phase, count: usize },
    /// A warning (`W:`) or error (`E:`, `error:`) the user should see now.
    Message(String),
    /// Nothing of note.
    Other,
}

/// Follows a bootstrap's phases; phases only move forward.
#[derive(Debug, Clone)]
pub struct ProgressTracker {
    phase: Phase,
    /// Package lines seen in the current phase.
    items: usize,
}

impl Default for ProgressTracker {
    fn default() -> Self {
        ProgressTracker {
            phase: Phase::Preparing,
            items: 0,
        }
    }
}

impl ProgressTracker {
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Reads one line of the tool's output.
    pub fn line(&mut self, line: &str) -> Progress {
        let line = line.trim_end();
        if line.starts_with("W: ") || line.starts_with("E: ") || line.starts_with("error:") {
            return Progress::Message(line.to_owned());
        }
        let Some((phase, is_item)) = classify(line) else {
            return Progress::Other;
        };
        if phase > self.phase {
            let previous = self.phase;
            let items = self.items;
            self.phase = phase;
            self.items = usize::from(is_item);
            return Progress::PhaseChanged {
                phase,
                previous,
                items,
            };
        }
        if phase == self.phase && is_item {
            self.items += 1;
            return Progress::Item {
                phase,
                count: self.items,
            };
        }
        Progress::Other
    }
}

/// The phase a line belongs to, and whether it names one package.
fn classify(line: &str) -> Option<(Phase, bool)> {
    if let Some(rest) = line.strip_prefix("I: ") {
        // Index files (Release, Packages) come before the packages.
        let index = |r: &str| {
            r.starts_with("InRelease") || r.starts_with("Release") || r.starts_with("Packages")
        };
        return if let Some(r) = rest.strip_prefix("Retrieving ") {
            (!index(r)).then_some((Phase::Retrieving, true))
        } else if let Some(r) = rest.strip_prefix("Validating ") {
            // debootstrap checks each package right after downloading it,
            // so its validation is part of the retrieving phase.
            (!index(r)).then_some((Phase::Retrieving, false))
        } else if rest.starts_with("Extracting ") {
            Some((Phase::Extracting, true))
        } else if rest.starts_with("Installing ")
            || rest.starts_with("Unpacking ")
            || rest.starts_with("Configuring ")
        {
            // "Unpacking required packages...", "Configuring the base
            // system..." announce a step; "Unpacking adduser..." is a package.
            let step = rest.ends_with(" packages...") || rest.ends_with(" the base system...");
            Some((Phase::Installing, !step && !rest.starts_with("Installing ")))
        } else if rest.starts_with("Base system installed successfully") {
            Some((Phase::Done, false))
        } else {
            None
        };
    }
    // pacstrap (pacman)
    if line.starts_with(":: Retrieving packages") {
        return Some((Phase::Retrieving, false));
    }
    let counted = line
        .strip_prefix('(')
        .and_then(|l| l.split_once(") "))
        .map(|(_, r)| r);
    match counted {
        Some(r) if r.starts_with("checking") => Some((Phase::Validating, false)),
        Some(r) if r.starts_with("installing ") => Some((Phase::Installing, true)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as debootstrap 1.0.128 prints them for bookworm (shortened).
    const DEBOOTSTRAP: &str = "I: Target architecture can be executed
I: Retrieving InRelease 
I: Checking Release signature
I: Valid Release signature (key id 4D64FEC119C2029067D6E791F8D2585B8783D481)
I: Retrieving Packages 
I: Validating Packages 
I: Resolving dependencies of required packages...
I: Checking component main on http://mirror.example/debian...
I: Retrieving adduser 3.134
I: Validating adduser 3.134
I: Retrieving apt 2.6.1
I: Validating apt 2.6.1
I: Chosen extractor for .deb packages: dpkg-deb
I: Extracting adduser...
I: Extracting apt...
W: something odd
I: Installing core packages...
I: Unpacking required packages...
I: Unpacking adduser...
I: Configuring required packages...
I: Configuring adduser...
I: Unpacking the base system...
I: Configuring the base system...
I: Base system installed successfully.
";

    #[test]
    fn debootstrap_phases_and_counts() {
        let mut t = ProgressTracker::default();
        let changes: Vec<Progress> = DEBOOTSTRAP
            .lines()
            .map(|l| t.line(l))
            .filter(|p| !matches!(p, Progress::Other | Progress::Item { .. }))
            .collect();
        use Phase::*;
        let ch = |phase, previous, items| Progress::PhaseChanged {
            phase,
            previous,
            items,
        };
        assert_eq!(
            changes,
            [
                ch(Retrieving, Preparing, 0),
                ch(Extracting, Retrieving, 2),
                Progress::Message("W: something odd".into()),
                ch(Installing, Extracting, 2),
                ch(Done, Installing, 2),
            ]
        );
        assert_eq!(t.phase(), Done);
    }

    #[test]
    fn pacstrap_phases() {
        let mut t = ProgressTracker::default();
        let lines = [
            "==> Creating install root at /m/arch",
            ":: Synchronizing package databases...",
            ":: Retrieving packages...",
            "(1/2) checking keys in keyring",
            "(1/2) checking package integrity",
            "(1/2) installing filesystem",
            "(2/2) installing base",
            "error: failed retrieving file",
        ];
        let out: Vec<Progress> = lines.iter().map(|l| t.line(l)).collect();
        assert!(matches!(
            out[2],
            Progress::PhaseChanged {
                phase: Phase::Retrieving,
                ..
            }
        ));
        assert!(matches!(
            out[3],
            Progress::PhaseChanged {
                phase: Phase::Validating,
                ..
            }
        ));
        assert!(matches!(
            out[5],
            Progress::PhaseChanged {
                phase: Phase::Installing,
                items: 0,
                ..
            }
        ));
        assert_eq!(
            out[6],
            Progress::Item {
                phase: Phase::Installing,
                count: 2
            }
        );
        assert_eq!(
            out[7],
            Progress::Message("error: failed retrieving file".into())
        );
    }
}
