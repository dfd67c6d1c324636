//! The harness's progress line on stderr (indicatif), one per run:
//!
//! ```text
//! [2/6] arc  building the live set  1.2s
//! [2/6] arc  churning [=========>        ] 3.4s/10s  24.1 Mnodes/s
//! ```
//!
//! # Rules
//! 1. The label names the runtime and, in a multi-runtime run, which of them it is
//!    (`--position K/N`, passed by the parent to each child).
//! 2. The phase is shown: a spinner while the live set is built, a bar with elapsed and
//!    total seconds while it churns.
//! 3. The rate is the current one: nodes allocated over the last [`WINDOW`] samples
//!    (about a second at the sampler's 200 ms redraws), not the average since the start.
//! 4. `--quiet` hides the line; so does a stderr that is not a terminal (indicatif draws
//!    nothing there), so piped or captured output stays clean.

use std::collections::VecDeque;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// Samples the current allocation rate is taken over.
const WINDOW: usize = 5;

/// The progress line of one run.
#[derive(Debug)]
pub(crate) struct Line {
    bar: ProgressBar,
    label: String,
    /// Recent `(elapsed, nodes)` samples, oldest first.
    recent: VecDeque<(Duration, u64)>,
}

fn target(quiet: bool) -> ProgressDrawTarget {
    if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    }
}

/// The label of a runtime: `[K/N] name` in a multi-runtime run, else `name`.
pub(crate) fn label(runtime: &str, position: Option<&str>) -> String {
    match position {
        Some(p) => format!("[{p}] {runtime}"),
        None => runtime.to_string(),
    }
}

impl Line {
    /// The build phase: a spinner with the elapsed time.
    pub(crate) fn building(label: String, quiet: bool) -> Line {
        let bar = ProgressBar::with_draw_target(None, target(quiet));
        bar.set_style(
            ProgressStyle::with_template("{prefix}  building the live set  {elapsed}")
                .expect("tricolor-gc-bench: bad progress template"),
        );
        bar.set_prefix(label.clone());
        bar.enable_steady_tick(Duration::from_millis(200));
        Line {
            bar,
            label,
            recent: VecDeque::new(),
        }
    }

    /// The churn phase, `duration` long: a bar of elapsed over total seconds and the rate.
    pub(crate) fn churning(self, duration: Duration, quiet: bool) -> Line {
        self.bar.finish_and_clear();
        let bar = ProgressBar::with_draw_target(Some(duration.as_millis() as u64), target(quiet));
        bar.set_style(
            ProgressStyle::with_template("{prefix}  churning [{bar:30}] {pos_s}/{len_s}  {msg}")
                .expect("tricolor-gc-bench: bad progress template")
                .with_key("pos_s", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    write_secs(w, s.pos())
                })
                .with_key("len_s", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    write_secs(w, s.len().unwrap_or(0))
                })
                .progress_chars("=> "),
        );
        bar.set_prefix(self.label.clone());
        Line {
            bar,
            label: self.label,
            recent: VecDeque::new(),
        }
    }

    /// Shows `nodes` allocated after `elapsed` of churn.
    pub(crate) fn update(&mut self, elapsed: Duration, nodes: u64) {
        self.recent.push_back((elapsed, nodes));
        if self.recent.len() > WINDOW {
            self.recent.pop_front();
        }
        let ms = elapsed.as_millis() as u64;
        self.bar
            .set_position(self.bar.length().map_or(ms, |len| ms.min(len)));
        if let Some(rate) = current_rate(&self.recent) {
            self.bar.set_message(format!("{:.1} Mnodes/s", rate / 1e6));
        }
    }

    /// Removes the line.
    pub(crate) fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// Milliseconds as `1.2s`.
fn write_secs(w: &mut dyn std::fmt::Write, ms: u64) {
    let _ = write!(w, "{:.1}s", ms as f64 / 1e3);
}

/// Nodes per second between the oldest and the newest sample.
fn current_rate(recent: &VecDeque<(Duration, u64)>) -> Option<f64> {
    let (&(t0, n0), &(t1, n1)) = (recent.front()?, recent.back()?);
    let dt = t1.checked_sub(t0)?.as_secs_f64();
    (dt > 0.0).then(|| n1.saturating_sub(n0) as f64 / dt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_over_the_window_not_since_the_start() {
        let mut line = Line::building("x".into(), true).churning(Duration::from_secs(10), true);
        let ms = Duration::from_millis;
        // A slow first second, then 2 M nodes per 200 ms (10 M/s).
        line.update(ms(1000), 1_000_000);
        for i in 1..=WINDOW as u64 {
            line.update(ms(1000 + 200 * i), 1_000_000 + 2_000_000 * i);
        }
        let rate = current_rate(&line.recent).unwrap();
        assert!((rate - 10e6).abs() < 1.0, "{rate}");
        line.finish();
    }

    #[test]
    fn labels_say_which_runtime_of_how_many() {
        assert_eq!(label("arc", Some("2/6")), "[2/6] arc");
        assert_eq!(label("arc", None), "arc");
    }
}
