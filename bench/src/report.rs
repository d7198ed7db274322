//! The result of a `hintd-bench` run: sections of rows (median, spread, target), printed as
//! one table or as JSON for tooling.

use super::machine::RunInfo;
use super::stats::Spread;
use serde::Serialize;
use std::fmt::Write as _;

/// Which way a target points.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// The figure must be at least the target.
    AtLeast,
    /// The figure must be at most the target.
    AtMost,
}

/// A figure's target.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Target {
    /// Direction.
    pub goal: Goal,
    /// Threshold, in the row's unit.
    pub value: f64,
    /// Whether the median meets it.
    pub met: bool,
}

/// One figure: median and spread over repeats.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// What was measured.
    pub metric: String,
    /// Unit of the numbers.
    pub unit: &'static str,
    /// Median and range over repeats; absent when no repeat produced a value.
    pub spread: Option<Spread>,
    /// Every repeat's value, in order.
    pub repeats: Vec<f64>,
    /// The target it is judged against, if any.
    pub target: Option<Target>,
}

impl Row {
    /// A row from repeats.
    pub fn new(metric: impl Into<String>, unit: &'static str, repeats: Vec<f64>) -> Row {
        Row {
            metric: metric.into(),
            unit,
            spread: Spread::of(&repeats),
            repeats,
            target: None,
        }
    }

    /// Judges the median against `value`.
    pub fn target(mut self, goal: Goal, value: f64) -> Row {
        let met = self.spread.is_some_and(|s| match goal {
            Goal::AtLeast => s.median >= value,
            Goal::AtMost => s.median <= value,
        });
        self.target = Some(Target { goal, value, met });
        self
    }
}

/// The figures of one benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// `hints`, `plugin-call`, `ingest` or `dispatch`.
    pub name: &'static str,
    /// What was driven, how (one line).
    pub setup: String,
    /// Figures.
    pub rows: Vec<Row>,
    /// Remarks: breakdowns, errors seen, what limits the figures.
    pub notes: Vec<String>,
}

impl Section {
    /// An empty section.
    pub fn new(name: &'static str, setup: impl Into<String>) -> Section {
        Section {
            name,
            setup: setup.into(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, row: Row) -> &mut Section {
        self.rows.push(row);
        self
    }

    /// Adds a note.
    pub fn note(&mut self, note: impl Into<String>) -> &mut Section {
        self.notes.push(note.into());
        self
    }
}

/// The settings a run used.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Seconds per measurement.
    pub duration_s: f64,
    /// Concurrent connections of the load generator.
    pub concurrency: usize,
    /// Repeats per measurement.
    pub repeats: usize,
    /// hintd replicas serving `hints` and `dispatch`.
    pub replicas: usize,
    /// Whether this was a smoke run (tiny sizes; numbers meaningless).
    pub smoke: bool,
    /// Store the server used (credentials redacted).
    pub data: String,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Machine, build and versions.
    pub run: RunInfo,
    /// Settings.
    pub settings: Settings,
    /// One section per benchmark.
    pub sections: Vec<Section>,
}

impl Report {
    /// The human-readable table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.run.line());
        let s = &self.settings;
        let _ = writeln!(
            out,
            "duration {} s × {} repeats · concurrency {} · store {} · {} replica(s){}",
            s.duration_s,
            s.repeats,
            s.concurrency,
            s.data,
            s.replicas,
            if s.smoke {
                " · SMOKE RUN (numbers meaningless)"
            } else {
                ""
            }
        );
        for section in &self.sections {
            let _ = writeln!(out, "\n== {} — {}", section.name, section.setup);
            let mut lines = vec![[
                "metric".to_string(),
                "median".into(),
                "min – max".into(),
                "unit".into(),
                "target".into(),
            ]];
            for row in &section.rows {
                let (median, range) = match row.spread {
                    Some(sp) => (
                        fmt_num(sp.median),
                        format!("{} – {}", fmt_num(sp.min), fmt_num(sp.max)),
                    ),
                    None => ("n/a".into(), "n/a".into()),
                };
                let target = row
                    .target
                    .map(|t| {
                        let op = if t.goal == Goal::AtLeast {
                            "≥"
                        } else {
                            "≤"
                        };
                        format!(
                            "{op} {} {}",
                            fmt_num(t.value),
                            if t.met { "met" } else { "MISSED" }
                        )
                    })
                    .unwrap_or_default();
                lines.push([
                    row.metric.clone(),
                    median,
                    range,
                    row.unit.to_string(),
                    target,
                ]);
            }
            let widths: Vec<usize> = (0..5)
                .map(|c| {
                    lines
                        .iter()
                        .map(|l| l[c].chars().count())
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            for (i, l) in lines.iter().enumerate() {
                let cells: Vec<String> = l
                    .iter()
                    .enumerate()
                    .map(|(c, cell)| {
                        let pad = widths[c] - cell.chars().count();
                        if c == 0 || c >= 3 {
                            format!("{cell}{}", " ".repeat(pad))
                        } else {
                            format!("{}{cell}", " ".repeat(pad))
                        }
                    })
                    .collect();
                let _ = writeln!(out, "  {}", cells.join("  ").trim_end());
                if i == 0 {
                    let total = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
                    let _ = writeln!(out, "  {}", "-".repeat(total));
                }
            }
            for note in &section.notes {
                let _ = writeln!(out, "  · {note}");
            }
        }
        out
    }
}

/// Three significant digits, no exponent, thousands kept readable.
pub fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_judged_on_the_median() {
        let row = Row::new("x", "req/s", vec![1.0, 10.0, 3.0]).target(Goal::AtLeast, 3.0);
        assert!(row.target.unwrap().met);
        let row = Row::new("x", "ms", vec![1.0, 10.0, 3.0]).target(Goal::AtMost, 2.0);
        assert!(!row.target.unwrap().met);
        let row = Row::new("x", "ms", vec![]).target(Goal::AtMost, 2.0);
        assert!(!row.target.unwrap().met);
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(fmt_num(12345.6), "12346");
        assert_eq!(fmt_num(123.45), "123.5");
        assert_eq!(fmt_num(12.345), "12.35");
        assert_eq!(fmt_num(0.01234), "0.012");
    }
}
