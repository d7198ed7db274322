//! The progress bar shown while a benchmark runs: on stderr, so stdout carries only the table
//! (or the JSON), and hidden when stderr is not a terminal (CI logs stay clean).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// One bar over the steps (measurements) of a whole `hintd-bench` run.
#[derive(Clone)]
pub struct Progress(ProgressBar);

impl Progress {
    /// A bar over `steps` measurements.
    pub fn new(steps: u64) -> Progress {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(steps), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress(bar)
    }

    /// Names the measurement now running.
    pub fn step(&self, what: impl Into<String>) {
        self.0.set_message(what.into());
    }

    /// Marks one measurement done.
    pub fn done_one(&self) {
        self.0.inc(1);
    }

    /// Adds measurements discovered while running.
    pub fn add_steps(&self, n: u64) {
        self.0.inc_length(n);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
