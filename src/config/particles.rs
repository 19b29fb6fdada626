//! [particles]: the interacting particle system.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParticlesSection {
    /// N_p, each of mass initial.mass / N_p.
    pub count: usize,
    /// Time step (fixed; the last step before an output time is shortened to land on it).
    pub dt: f64,
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub stepper: crate::kinds::ParticleMethod,
    /// Diffusion sweeps applied to the deposited density before it is interpolated back.
    #[serde(default)]
    pub smoothing_sweeps: u32,
    /// Run the particles instead of the grid solver.
    #[serde(default)]
    pub only: bool,
}
