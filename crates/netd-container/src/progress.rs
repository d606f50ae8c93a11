//! Progress of a bootstrap, read from the tool's output lines. Pure: the
//! caller feeds lines and prints what comes out with its own clock.
//!
//! debootstrap prints `I: Retrieving PKG VERSION` and `I: Validating …`
//! (interleaved: each package is checked as it arrives), `I: Extracting …`,
//! then `I: Unpacking …`/`I: Configuring …` while it installs, with no
//! totals; pacstrap prints `:: Retrieving packages...`, `(n/N) checking
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

/// What happened to one package, as the tool said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Downloaded (debootstrap's `Retrieving PKG`).
    Retrieved,
    /// Extracted into the target before dpkg runs there.
    Extracted,
    /// Unpacked by dpkg inside the target.
    Unpacked,
    /// Configured by dpkg inside the target.
    Configured,
    /// Installed (pacstrap's `(n/N) installing PKG`).
    Installed,
}

/// How many packages went through each [`Step`] so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepCounts([usize; 5]);

impl StepCounts {
    pub fn get(&self, step: Step) -> usize {
        self.0[step as usize]
    }

    /// Records that `count` packages went through `step` (for a caller
    /// that follows [`Progress::Item`]s).
    pub fn set(&mut self, step: Step, count: usize) {
        self.0[step as usize] = count;
    }
}

/// What one line meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// A new phase began; `previous` ended after `items` package lines.
    /// `counts` include this line's package, if it names one.
    PhaseChanged {
        phase: Phase,
        previous: Phase,
        items: usize,
        counts: StepCounts,
    },
    /// One more package went through `step`, `count` so far. `total` is how
    /// many will, where known: pacstrap prints it (`(n/N)`); debootstrap
    /// prints no total, but it unpacks and configures about as many
    /// packages as it retrieved, so that number is given for those steps.
    Item {
        phase: Phase,
        step: Step,
        count: usize,
        total: Option<usize>,
    },
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
    /// Packages seen so far at each step.
    steps: StepCounts,
}

impl Default for ProgressTracker {
    fn default() -> Self {
        ProgressTracker {
            phase: Phase::Preparing,
            items: 0,
            steps: StepCounts::default(),
        }
    }
}

impl ProgressTracker {
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Packages seen so far at `step`.
    pub fn count(&self, step: Step) -> usize {
        self.steps.get(step)
    }

    /// Reads one line of the tool's output.
    pub fn line(&mut self, line: &str) -> Progress {
        let line = line.trim_end();
        if line.starts_with("W: ") || line.starts_with("E: ") || line.starts_with("error:") {
            return Progress::Message(line.to_owned());
        }
        let Some(seen) = classify(line) else {
            return Progress::Other;
        };
        if seen.phase < self.phase {
            return Progress::Other;
        }
        let previous = (seen.phase > self.phase).then(|| {
            let items = std::mem::take(&mut self.items);
            (std::mem::replace(&mut self.phase, seen.phase), items)
        });
        let count = seen.item.as_ref().map(|item| {
            self.items += 1;
            let n = item
                .counted
                .map_or(self.steps.get(item.step) + 1, |(n, _)| n);
            self.steps.set(item.step, n);
            n
        });
        if let Some((previous, items)) = previous {
            // The first package of a phase shows as the phase's start.
            return Progress::PhaseChanged {
                phase: seen.phase,
                previous,
                items,
                counts: self.steps,
            };
        }
        let (Some(item), Some(count)) = (seen.item, count) else {
            return Progress::Other;
        };
        let retrieved = self.count(Step::Retrieved);
        let total = match (item.counted, item.step) {
            (Some((_, of)), _) => Some(of),
            (None, Step::Unpacked | Step::Configured) if retrieved > 0 => Some(retrieved),
            _ => None,
        };
        Progress::Item {
            phase: self.phase,
            step: item.step,
            count,
            total,
        }
    }
}

/// What a line says: the phase it belongs to, and the package step it
/// reports if it names a package.
struct Seen {
    phase: Phase,
    item: Option<SeenItem>,
}

struct SeenItem {
    step: Step,
    /// `(n, N)` where the tool counts itself.
    counted: Option<(usize, usize)>,
}

fn seen(phase: Phase, step: Option<Step>) -> Option<Seen> {
    Some(Seen {
        phase,
        item: step.map(|step| SeenItem {
            step,
            counted: None,
        }),
    })
}

fn classify(line: &str) -> Option<Seen> {
    if let Some(rest) = line.strip_prefix("I: ") {
        // Index files (Release, Packages) come before the packages.
        let index = |r: &str| {
            r.starts_with("InRelease") || r.starts_with("Release") || r.starts_with("Packages")
        };
        return if let Some(r) = rest.strip_prefix("Retrieving ") {
            if index(r) {
                None
            } else {
                seen(Phase::Retrieving, Some(Step::Retrieved))
            }
        } else if let Some(r) = rest.strip_prefix("Validating ") {
            // debootstrap checks each package right after downloading it,
            // so its validation is part of the retrieving phase.
            if index(r) {
                None
            } else {
                seen(Phase::Retrieving, None)
            }
        } else if rest.starts_with("Extracting ") {
            seen(Phase::Extracting, Some(Step::Extracted))
        } else if rest.starts_with("Installing ")
            || rest.starts_with("Unpacking ")
            || rest.starts_with("Configuring ")
        {
            // "Unpacking required packages...", "Configuring the base
            // system..." announce a step; "Unpacking adduser..." is a package.
            let announce = rest.ends_with(" packages...")
                || rest.ends_with(" the base system...")
                || rest.starts_with("Installing ");
            let step = if rest.starts_with("Unpacking ") {
                Step::Unpacked
            } else {
                Step::Configured
            };
            seen(Phase::Installing, (!announce).then_some(step))
        } else if rest.starts_with("Base system installed successfully") {
            seen(Phase::Done, None)
        } else {
            None
        };
    }
    // pacstrap (pacman)
    if line.starts_with(":: Retrieving packages") {
        return seen(Phase::Retrieving, None);
    }
    let (counted, rest) = line.strip_prefix('(').and_then(|l| l.split_once(") "))?;
    let counted = counted
        .split_once('/')
        .and_then(|(n, of)| Some((n.trim().parse().ok()?, of.trim().parse().ok()?)));
    if rest.starts_with("checking") {
        seen(Phase::Validating, None)
    } else if rest.starts_with("installing ") {
        Some(Seen {
            phase: Phase::Installing,
            item: Some(SeenItem {
                step: Step::Installed,
                counted,
            }),
        })
    } else {
        None
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
            .map(|p| match p {
                // Counts are checked below.
                Progress::PhaseChanged {
                    phase,
                    previous,
                    items,
                    ..
                } => Progress::PhaseChanged {
                    phase,
                    previous,
                    items,
                    counts: StepCounts::default(),
                },
                other => other,
            })
            .collect();
        use Phase::*;
        let ch = |phase, previous, items| Progress::PhaseChanged {
            phase,
            previous,
            items,
            counts: StepCounts::default(),
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
    fn debootstrap_counts_packages_at_each_step() {
        let mut t = ProgressTracker::default();
        let items: Vec<(Step, usize, Option<usize>)> = DEBOOTSTRAP
            .lines()
            .filter_map(|l| match t.line(l) {
                Progress::Item {
                    step, count, total, ..
                } => Some((step, count, total)),
                _ => None,
            })
            .collect();
        use Step::*;
        // The first package of a phase comes as the phase change.
        assert_eq!(
            items,
            [
                (Retrieved, 2, None),
                (Extracted, 2, None),
                (Unpacked, 1, Some(2)),
                (Configured, 1, Some(2)),
            ]
        );
        assert_eq!(
            [Retrieved, Extracted, Unpacked, Configured].map(|s| t.count(s)),
            [2, 2, 1, 1]
        );
        // A phase change carries the counts, its own first package in them.
        let mut t = ProgressTracker::default();
        let mut last_change = None;
        for l in DEBOOTSTRAP
            .lines()
            .take_while(|l| !l.contains("Extracting apt"))
        {
            if let p @ Progress::PhaseChanged { .. } = t.line(l) {
                last_change = Some(p);
            }
        }
        let Some(Progress::PhaseChanged {
            phase: Phase::Extracting,
            counts,
            ..
        }) = last_change
        else {
            panic!("{last_change:?}");
        };
        assert_eq!((counts.get(Retrieved), counts.get(Extracted)), (2, 1));
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
                step: Step::Installed,
                count: 2,
                total: Some(2),
            }
        );
        assert_eq!(t.count(Step::Installed), 2);
        assert_eq!(
            out[7],
            Progress::Message("error: failed retrieving file".into())
        );
    }
}
