//! The column drift methods and how each is computed.

pub mod distances;
pub mod proportions;
pub mod wasserstein;

use serde::{Deserialize, Serialize};

/// A drift method, serialized under the Evidently name it reports under
/// ([`name`](Self::name)); the older snake-case variant names still deserialize.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftMethod {
    /// Two-sample Kolmogorov–Smirnov (p-value; drift if p ≤ threshold).
    Ks,
    /// Chi-square goodness of fit of current counts to reference shares (p-value).
    #[serde(rename = "chisquare", alias = "chi_square")]
    ChiSquare,
    /// Two-proportion Z-test for two-valued columns (p-value).
    #[serde(rename = "z", alias = "z_test")]
    ZTest,
    /// Wasserstein distance normed by the reference's standard deviation (distance).
    Wasserstein,
    /// Jensen–Shannon distance on binned or category shares (distance).
    #[serde(rename = "jensenshannon", alias = "jensen_shannon")]
    JensenShannon,
    /// Population stability index on binned or category shares (distance).
    Psi,
    /// Hellinger distance on binned or category shares (distance).
    Hellinger,
    /// Anderson–Darling k-sample test (p-value, capped to [0.001, 0.25] as scipy does; threshold 0.1).
    #[serde(rename = "anderson", alias = "anderson_darling")]
    AndersonDarling,
    /// Cramér–von Mises two-sample test (p-value; threshold 0.1).
    CramerVonMises,
    /// A user's own [`DriftDetector`](mlops_core::DriftDetector), plugged into a
    /// column with [`DriftConfig::with_detector`](crate::drift::DriftConfig::with_detector);
    /// its name is in [`ColumnDrift::detector`](crate::drift::ColumnDrift::detector)
    /// and it decides the verdict itself.
    Custom,
}

impl std::fmt::Display for DriftMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl DriftMethod {
    /// Whether the score is a p-value (drift when small) rather than a distance (drift when large).
    pub fn is_test(self) -> bool {
        matches!(
            self,
            DriftMethod::Ks
                | DriftMethod::ChiSquare
                | DriftMethod::ZTest
                | DriftMethod::AndersonDarling
                | DriftMethod::CramerVonMises
        )
    }

    /// The method's default threshold (Evidently's: 0.05 for KS, chi-square
    /// and Z; 0.1 for Anderson–Darling, Cramér–von Mises and the distances).
    pub fn default_threshold(self) -> f64 {
        match self {
            DriftMethod::Ks | DriftMethod::ChiSquare | DriftMethod::ZTest => 0.05,
            _ => 0.1,
        }
    }

    /// The name used in reports (Evidently's `stattest_name` stem).
    pub fn name(self) -> &'static str {
        match self {
            DriftMethod::Ks => "ks",
            DriftMethod::ChiSquare => "chisquare",
            DriftMethod::ZTest => "z",
            DriftMethod::Wasserstein => "wasserstein",
            DriftMethod::JensenShannon => "jensenshannon",
            DriftMethod::Psi => "psi",
            DriftMethod::Hellinger => "hellinger",
            DriftMethod::AndersonDarling => "anderson",
            DriftMethod::CramerVonMises => "cramer_von_mises",
            DriftMethod::Custom => "custom",
        }
    }

    /// Whether `score` means drift at `threshold`, with Evidently's comparisons:
    /// KS and Cramér–von Mises at p ≤ α; chi-square, Z and Anderson–Darling at p < α;
    /// distances at ≥ t.
    pub fn drifted(self, score: f64, threshold: f64) -> bool {
        match self {
            DriftMethod::Ks | DriftMethod::CramerVonMises => score <= threshold,
            DriftMethod::ChiSquare | DriftMethod::ZTest | DriftMethod::AndersonDarling => score < threshold,
            _ => score >= threshold,
        }
    }
}
