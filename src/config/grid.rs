//! [grid]: the box and the cells, shared by the forward and the diffusion configs.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GridSection {
    /// L: the box is [-L, L]^d.
    pub half_width: f64,
    /// N cells per side (odd keeps one cell centred at the origin).
    pub cells: usize,
}
