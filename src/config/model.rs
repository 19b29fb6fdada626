//! [model]: the parameters of the equation.

use serde::{Deserialize, Serialize};

use super::defaults::one;
use crate::model::Statistics;

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    pub dim: usize,
    #[serde(default = "one")]
    pub lambda: f64,
    #[serde(default = "one")]
    pub beta: f64,
    pub gamma: f64,
    #[serde(default = "one")]
    pub diffusion: f64,
    /// "bose" (m = f (1 + β f^γ), the default) or "fermi" (m = f (1 − β f^γ), densities
    /// below β^{−1/γ}).
    #[serde(default)]
    pub statistics: Statistics,
}
