//! The vocabulary of broken rules, shared by data validation (`mlops-data`)
//! and validation at the door of a model (`mlops-serve`).

use serde::{Deserialize, Serialize};

/// Which rule a violation broke.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A declared column is absent.
    MissingColumn,
    /// The column's type is not of the declared family, or cannot be cast to it without loss.
    Type,
    /// Nulls in a column that declares none.
    Nullability,
    /// More nulls than the largest accepted share.
    NullFraction,
    /// NaN or ±infinity where none are accepted.
    NonFinite,
    /// Finite values outside the accepted range.
    Range,
    /// Values outside the allowed categories.
    Category,
    /// Class probabilities outside [0, 1] or not summing to 1 (model outputs).
    Probability,
}

impl RuleKind {
    /// The rule's stable snake_case name (as serialised).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::MissingColumn => "missing_column",
            RuleKind::Type => "type",
            RuleKind::Nullability => "nullability",
            RuleKind::NullFraction => "null_fraction",
            RuleKind::NonFinite => "non_finite",
            RuleKind::Range => "range",
            RuleKind::Category => "category",
            RuleKind::Probability => "probability",
        }
    }
}

impl std::fmt::Display for RuleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule broken by some rows of a batch: which column, which rule, which
/// rows (the first few), and one offending value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RowViolation {
    /// The column.
    pub column: String,
    /// The rule.
    pub rule: RuleKind,
    /// How many rows break it.
    pub count: usize,
    /// The first offending row indices (0-based, in the batch as given), at most the policy's limit.
    pub rows: Vec<usize>,
    /// One offending value, as text (`None` for a missing column).
    pub example: Option<String>,
    /// What was expected.
    pub expected: String,
}

impl RowViolation {
    /// A violation with no rows recorded yet.
    pub fn new(column: impl Into<String>, rule: RuleKind, expected: impl Into<String>) -> Self {
        RowViolation {
            column: column.into(),
            rule,
            count: 0,
            rows: Vec::new(),
            example: None,
            expected: expected.into(),
        }
    }

    /// Records one offending row, keeping at most `max_rows` indices and the first example.
    pub fn record(&mut self, row: usize, value: impl FnOnce() -> String, max_rows: usize) {
        self.count += 1;
        if self.rows.len() < max_rows {
            self.rows.push(row);
        }
        if self.example.is_none() {
            self.example = Some(value());
        }
    }
}

impl std::fmt::Display for RowViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "column `{}` breaks rule {} in {} row(s)",
            self.column, self.rule, self.count
        )?;
        if !self.rows.is_empty() {
            write!(f, " (rows {:?}", self.rows)?;
            if self.rows.len() < self.count {
                f.write_str(", …")?;
            }
            f.write_str(")")?;
        }
        if let Some(example) = &self.example {
            write!(f, ", e.g. {example}")?;
        }
        write!(f, "; expected {}", self.expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_violation_keeps_the_first_rows_and_example_and_says_all_of_it() {
        let mut v = RowViolation::new("age", RuleKind::Range, "values in [0, 120]");
        for row in [3, 9, 12] {
            v.record(row, || format!("{}", row * 100), 2);
        }
        assert_eq!(
            (v.count, v.rows.as_slice(), v.example.as_deref()),
            (3, &[3, 9][..], Some("300"))
        );
        assert_eq!(
            v.to_string(),
            "column `age` breaks rule range in 3 row(s) (rows [3, 9], …), e.g. 300; expected values in [0, 120]"
        );
        assert_eq!(
            serde_json::to_value(RuleKind::NonFinite).ok(),
            Some(serde_json::json!("non_finite"))
        );
    }
}
