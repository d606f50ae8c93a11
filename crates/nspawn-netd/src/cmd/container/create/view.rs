//! How `container create` shows the bootstrap's progress. On a terminal
//! (stdout), a live line drawn by indicatif: the phase, its time, and the
//! packages counted so far (as a bar where the total is known), with a line
//! kept for each finished phase. Otherwise plain lines on stderr for logs
//! and CI: one per phase with the time since the start, and the tool's
//! warnings.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use netd_container::progress::{Phase, Progress, Step, StepCounts};

/// The live line's redraws per second, and its spinner's tick.
const REFRESH_HZ: u8 = 8;
const TICK: Duration = Duration::from_millis(120);

/// Where progress goes: [`View::for_stdout`] picks.
#[derive(Debug)]
pub(super) struct View {
    /// `None`: plain lines on stderr.
    bar: Option<ProgressBar>,
    phase: Phase,
    /// When the current phase began, since the start of the bootstrap.
    phase_began: Duration,
    /// Packages counted so far at each step.
    counts: StepCounts,
    /// How many packages the install steps will count, where known.
    install_total: Option<usize>,
}

impl View {
    /// A live line when stdout is a terminal, plain lines otherwise.
    pub(super) fn for_stdout() -> View {
        if std::io::stdout().is_terminal() {
            View::with_bar(ProgressDrawTarget::stdout_with_hz(REFRESH_HZ))
        } else {
            View::plain()
        }
    }

    pub(super) fn plain() -> View {
        View {
            bar: None,
            phase: Phase::Preparing,
            phase_began: Duration::ZERO,
            counts: StepCounts::default(),
            install_total: None,
        }
    }

    fn with_bar(target: ProgressDrawTarget) -> View {
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(spinner_style());
        bar.set_message(Phase::Preparing.to_string());
        bar.enable_steady_tick(TICK);
        View {
            bar: Some(bar),
            ..View::plain()
        }
    }

    /// Shows one event of the bootstrap, `elapsed` after its start.
    pub(super) fn report(&mut self, progress: &Progress, elapsed: Duration) {
        match progress {
            Progress::PhaseChanged {
                phase,
                previous,
                counts,
                ..
            } => {
                let took = elapsed.saturating_sub(self.phase_began);
                self.line(&phase_line(elapsed, *phase, *previous, took, counts));
                self.phase = *phase;
                self.phase_began = elapsed;
                if let Some(bar) = &self.bar {
                    // The live line shows the phase's own time.
                    bar.reset_elapsed();
                }
                self.counts = *counts;
                if *phase == Phase::Done {
                    self.finish();
                    return;
                }
            }
            Progress::Item {
                step, count, total, ..
            } => {
                self.counts.set(*step, *count);
                if matches!(step, Step::Unpacked | Step::Configured | Step::Installed) {
                    self.install_total = total.or(self.install_total);
                }
            }
            Progress::Message(m) => self.line(&format!("{} {m}", stamp(elapsed))),
            Progress::Other => return,
        }
        self.redraw();
    }

    /// Takes the live line away (the finished phases' lines stay).
    pub(super) fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// A line that stays: above the live line, or on stderr.
    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn redraw(&self) {
        let Some(bar) = &self.bar else { return };
        let live = live(self.phase, &self.counts, self.install_total);
        bar.set_message(live.message);
        match live.bar {
            Some((pos, len)) => {
                if bar.length().is_none() {
                    bar.set_style(bar_style());
                }
                bar.set_length(len);
                bar.set_position(pos.min(len));
            }
            None => {
                if bar.length().is_some() {
                    bar.unset_length();
                    bar.set_style(spinner_style());
                }
            }
        }
    }
}

impl Drop for View {
    fn drop(&mut self) {
        self.finish();
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} [{elapsed:>4}] {msg}").expect("a valid template")
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} [{elapsed:>4}] {bar:30} {msg}")
        .expect("a valid template")
        .progress_chars("=> ")
}

/// `[  12.3s]`: time since the start of the bootstrap.
fn stamp(elapsed: Duration) -> String {
    format!("[{:6.1}s]", elapsed.as_secs_f64())
}

/// The line for a phase that begins, with what the previous one did.
fn phase_line(
    elapsed: Duration,
    phase: Phase,
    previous: Phase,
    took: Duration,
    counts: &StepCounts,
) -> String {
    let mut line = format!("{} {phase}", stamp(elapsed));
    if previous != Phase::Preparing || took >= Duration::from_secs(1) {
        line.push_str(&format!(" ({previous} took {:.1}s", took.as_secs_f64()));
        let done = done_in(previous, counts);
        if !done.is_empty() {
            line.push_str(&format!(": {done}"));
        }
        line.push(')');
    }
    line
}

/// The steps a phase counts packages at, with their past participle.
fn steps_of(phase: Phase) -> &'static [(Step, &'static str)] {
    match phase {
        Phase::Retrieving => &[(Step::Retrieved, "retrieved")],
        Phase::Extracting => &[(Step::Extracted, "extracted")],
        Phase::Installing => &[
            (Step::Unpacked, "unpacked"),
            (Step::Configured, "configured"),
            (Step::Installed, "installed"),
        ],
        Phase::Preparing | Phase::Validating | Phase::Done => &[],
    }
}

/// "122 packages retrieved", "118 unpacked, 117 configured": what a phase
/// did, as far as the tool said.
fn done_in(phase: Phase, counts: &StepCounts) -> String {
    let parts: Vec<(usize, &str)> = steps_of(phase)
        .iter()
        .map(|(step, word)| (counts.get(*step), *word))
        .filter(|(n, _)| *n > 0)
        .collect();
    match parts.as_slice() {
        [] => String::new(),
        [(n, word)] => format!("{n} packages {word}"),
        many => many
            .iter()
            .map(|(n, word)| format!("{n} {word}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// What the live line shows.
#[derive(Debug, PartialEq, Eq)]
struct Live {
    message: String,
    /// `(position, length)` when there is a total to fill.
    bar: Option<(u64, u64)>,
}

fn live(phase: Phase, counts: &StepCounts, install_total: Option<usize>) -> Live {
    let count = |step| counts.get(step);
    let (unpacked, configured, installed) = (
        count(Step::Unpacked),
        count(Step::Configured),
        count(Step::Installed),
    );
    match (phase, install_total) {
        (Phase::Installing, Some(total)) if installed > 0 => Live {
            message: format!("{phase}: {installed}/{total}"),
            bar: Some((installed as u64, total as u64)),
        },
        (Phase::Installing, Some(total)) => Live {
            message: format!(
                "{phase}: unpacked {unpacked}/{total}, configured {configured}/{total}"
            ),
            // Every package is unpacked, then configured.
            bar: Some(((unpacked + configured) as u64, 2 * total as u64)),
        },
        _ => {
            let done = done_in(phase, counts);
            Live {
                message: if done.is_empty() {
                    phase.to_string()
                } else {
                    format!("{phase}: {done}")
                },
                bar: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(steps: &[(Step, usize)]) -> StepCounts {
        let mut c = StepCounts::default();
        for (step, n) in steps {
            c.set(*step, *n);
        }
        c
    }

    #[test]
    fn a_phase_line_says_when_and_what_the_last_phase_did() {
        let c = counts(&[(Step::Retrieved, 122), (Step::Extracted, 1)]);
        assert_eq!(
            phase_line(
                Duration::from_millis(33_400),
                Phase::Extracting,
                Phase::Retrieving,
                Duration::from_millis(31_000),
                &c
            ),
            "[  33.4s] extracting packages (retrieving packages took 31.0s: 122 packages retrieved)"
        );
        let c = counts(&[(Step::Unpacked, 118), (Step::Configured, 117)]);
        assert_eq!(
            phase_line(
                Duration::from_secs(120),
                Phase::Done,
                Phase::Installing,
                Duration::from_secs(60),
                &c
            ),
            "[ 120.0s] done (installing packages took 60.0s: 118 unpacked, 117 configured)"
        );
        // A quick start says nothing of "preparing".
        assert_eq!(
            phase_line(
                Duration::from_millis(500),
                Phase::Retrieving,
                Phase::Preparing,
                Duration::from_millis(500),
                &counts(&[(Step::Retrieved, 1)])
            ),
            "[   0.5s] retrieving packages"
        );
    }

    #[test]
    fn the_live_line_counts_and_fills_a_bar_where_the_total_is_known() {
        let c = counts(&[(Step::Retrieved, 57)]);
        assert_eq!(
            live(Phase::Retrieving, &c, None),
            Live {
                message: "retrieving packages: 57 packages retrieved".into(),
                bar: None
            }
        );
        let c = counts(&[(Step::Unpacked, 80), (Step::Configured, 40)]);
        assert_eq!(
            live(Phase::Installing, &c, Some(122)),
            Live {
                message: "installing packages: unpacked 80/122, configured 40/122".into(),
                bar: Some((120, 244))
            }
        );
        let c = counts(&[(Step::Installed, 3)]);
        assert_eq!(
            live(Phase::Installing, &c, Some(140)).bar,
            Some((3, 140)),
            "pacstrap counts itself"
        );
        assert_eq!(
            live(Phase::Validating, &c, None).message,
            "validating packages"
        );
    }

    #[test]
    fn plain_and_hidden_views_follow_a_whole_bootstrap() {
        let lines = [
            "I: Retrieving adduser 3.134",
            "I: Retrieving apt 2.6.1",
            "I: Extracting adduser...",
            "W: odd",
            "I: Installing core packages...",
            "I: Unpacking adduser...",
            "I: Configuring adduser...",
            "I: Base system installed successfully.",
        ];
        for mut view in [View::plain(), View::with_bar(ProgressDrawTarget::hidden())] {
            let mut tracker = netd_container::progress::ProgressTracker::default();
            for (i, l) in lines.iter().enumerate() {
                view.report(&tracker.line(l), Duration::from_secs(i as u64));
            }
            assert_eq!(view.phase, Phase::Done);
            assert_eq!(view.counts.get(Step::Configured), 1);
            assert_eq!(view.install_total, Some(2));
            assert!(view.bar.is_none(), "done takes the live line away");
        }
    }
}
