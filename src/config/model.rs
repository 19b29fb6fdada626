//! [model]: the parameters of the equation.

use serde::{Deserialize, Serialize};

use super::defaults::one;

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
}
