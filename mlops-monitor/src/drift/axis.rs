//! What a numeric column's values mean on a plot axis, and labels for them
//! that read at the axis' scale (dates for instants, few decimals for wide ranges).

use arrow_schema::{DataType, TimeUnit};
use chrono::DateTime;
use serde::{Deserialize, Serialize};

/// How the numbers of a plot's bins are to be read.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AxisScale {
    /// Plain numbers (also categories).
    #[default]
    Number,
    /// Days since 1970-01-01 (Arrow `Date32`).
    Days,
    /// Instants since 1970-01-01T00:00:00Z in this unit (`Timestamp`, `Date64`).
    Instant(TimeUnit),
    /// Time of day since midnight in this unit (`Time32`, `Time64`).
    TimeOfDay(TimeUnit),
}

impl AxisScale {
    /// The scale of a column of this type.
    pub fn of(data_type: &DataType) -> Self {
        match data_type {
            DataType::Date32 => AxisScale::Days,
            DataType::Date64 => AxisScale::Instant(TimeUnit::Millisecond),
            DataType::Timestamp(unit, _) => AxisScale::Instant(*unit),
            DataType::Time32(unit) | DataType::Time64(unit) => AxisScale::TimeOfDay(*unit),
            _ => AxisScale::Number,
        }
    }

    /// Labels for `values` on an axis spanning `span` (in the column's units):
    /// the date alone when the span is days or more, minutes when it is
    /// minutes or more, seconds (and milliseconds below a second) otherwise;
    /// numbers with as many decimals as the span needs.
    pub fn labels(self, values: &[f64], span: f64) -> Vec<String> {
        values.iter().map(|&v| self.label(v, span)).collect()
    }

    /// One label; see [`labels`](Self::labels).
    pub fn label(self, value: f64, span: f64) -> String {
        let nanos_per = |unit: TimeUnit| match unit {
            TimeUnit::Second => 1e9,
            TimeUnit::Millisecond => 1e6,
            TimeUnit::Microsecond => 1e3,
            TimeUnit::Nanosecond => 1.0,
        };
        match self {
            AxisScale::Number => number_label(value, span),
            AxisScale::Days => instant_label(value * 86_400e9, span * 86_400e9),
            AxisScale::Instant(unit) => instant_label(value * nanos_per(unit), span * nanos_per(unit)),
            AxisScale::TimeOfDay(unit) => time_of_day_label(value * nanos_per(unit), span * nanos_per(unit)),
        }
    }
}

const NANOS_PER_SECOND: f64 = 1e9;
const NANOS_PER_MINUTE: f64 = 60.0 * NANOS_PER_SECOND;
const NANOS_PER_DAY: f64 = 86_400.0 * NANOS_PER_SECOND;

/// A date-time label; out of chrono's range it falls back to the number.
fn instant_label(nanos: f64, span_nanos: f64) -> String {
    let seconds = (nanos / NANOS_PER_SECOND).floor();
    let sub = (nanos - seconds * NANOS_PER_SECOND).clamp(0.0, NANOS_PER_SECOND - 1.0);
    if !seconds.is_finite() || seconds.abs() > 8.0e12 {
        return number_label(nanos, span_nanos);
    }
    let Some(t) = DateTime::from_timestamp(seconds as i64, sub as u32) else {
        return number_label(nanos, span_nanos);
    };
    let format = if span_nanos >= 2.0 * NANOS_PER_DAY {
        "%Y-%m-%d"
    } else if span_nanos >= 2.0 * NANOS_PER_MINUTE {
        "%Y-%m-%d %H:%M"
    } else if span_nanos >= 2.0 * NANOS_PER_SECOND {
        "%Y-%m-%d %H:%M:%S"
    } else {
        "%H:%M:%S%.3f"
    };
    t.format(format).to_string()
}

/// `HH:MM[:SS[.mmm]]` for a time of day.
fn time_of_day_label(nanos: f64, span_nanos: f64) -> String {
    let total = nanos.max(0.0);
    let seconds = (total / NANOS_PER_SECOND).floor();
    let (h, m, s) = (
        (seconds / 3600.0).floor(),
        ((seconds % 3600.0) / 60.0).floor(),
        seconds % 60.0,
    );
    if span_nanos >= 2.0 * NANOS_PER_MINUTE {
        format!("{h:02}:{m:02}")
    } else if span_nanos >= 2.0 * NANOS_PER_SECOND {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        let ms = ((total - seconds * NANOS_PER_SECOND) / 1e6).floor();
        format!("{h:02}:{m:02}:{s:02}.{ms:03}")
    }
}

/// A number with the decimals that distinguish values a tenth of `span`
/// apart (none for spans of 10 or more); scientific notation for magnitudes
/// of a million and more, or below a thousandth.
pub(crate) fn number_label(value: f64, span: f64) -> String {
    if !value.is_finite() {
        return format!("{value}");
    }
    let magnitude = value.abs();
    if magnitude >= 1e6 || (magnitude > 0.0 && magnitude < 1e-3 && span < 1e-2) {
        return format!("{value:.3e}");
    }
    let step = span.abs() / 10.0;
    let decimals = if step >= 1.0 || step <= 0.0 || !step.is_finite() {
        0
    } else {
        ((-step.log10()).ceil() as usize).min(6)
    };
    let text = format!("{value:.decimals$}");
    // "-0" reads as a sign error.
    if text.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
        text.trim_start_matches('-').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_read_as_dates_at_their_scale() {
        let us = AxisScale::Instant(TimeUnit::Microsecond);
        // 2026-01-01T00:16:34Z, over a month: the date.
        assert_eq!(us.label(1_767_226_594_000_000.0, 30.0 * 86_400e6), "2026-01-01");
        // Over two hours: minutes.
        assert_eq!(us.label(1_767_226_594_000_000.0, 7_200e6), "2026-01-01 00:16");
        assert_eq!(AxisScale::Days.label(20_454.0, 30.0), "2026-01-01");
        assert_eq!(
            AxisScale::of(&DataType::Time32(TimeUnit::Second)).label(3_723.0, 86_399.0),
            "01:02"
        );
    }

    #[test]
    fn numbers_carry_the_decimals_their_range_needs() {
        assert_eq!(number_label(12.0, 990.0), "12");
        assert_eq!(number_label(2.46, 9.0), "2.5");
        assert_eq!(number_label(0.123_456, 0.05), "0.123");
        assert_eq!(number_label(2.5e7, 1e7), "2.500e7");
        assert_eq!(number_label(-0.001, 100.0), "0");
    }
}
