//! [reverse]: the reverse-time solver of `generate` and `filter`.

use serde::{Deserialize, Serialize};

use super::defaults::*;

/// The reverse-time solver of docs/MATH.md §3.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReverseSection {
    /// Stabilisation η ≥ 0 (η = D: the classical reverse SDE; 0: the probability flow).
    #[serde(default = "one")]
    pub eta: f64,
    /// "equilibrium" (generation from the asymptotic state) or "terminal" (from f(T)).
    #[serde(default = "default_start")]
    pub start: crate::kinds::Start,
    /// "scheme" (the forward scheme's score, snapshots every `store_every` steps),
    /// "exact" (every step stored and reversed exactly) or "log-score".
    #[serde(default = "default_reverse_mode")]
    pub mode: crate::kinds::ReverseMode,
    /// Keep a forward snapshot every this many steps (1 in the exact mode).
    #[serde(default = "default_store_every")]
    pub store_every: u64,
    /// Snapshots beyond this many MiB go to disk (under the run directory, removed after).
    #[serde(default = "default_memory_budget_mib")]
    pub memory_budget_mib: f64,
    /// Snapshots beyond the memory budget spill to disk up to this many MiB.
    #[serde(default = "default_disk_budget_mib")]
    pub disk_budget_mib: f64,
    /// Δt = safety × positivity bound (log-score mode; the others retrace the forward steps).
    #[serde(default = "default_reverse_safety")]
    pub safety: f64,
    /// Face flux of the log-score step: "upwind" or "scharfetter-gummel" (central where
    /// the cell Péclet number V h/η is small).
    #[serde(default)]
    pub flux: crate::kinds::FaceFlux,
    /// Directions of the sliced W1 in 2D (equally spaced angles in [0, π)).
    #[serde(default = "default_sliced_directions")]
    pub sliced_w1_directions: usize,
    /// Reverse particles (0: none): sampled from the starting state, moved by the reverse
    /// SDE with the scheme's velocity from the snapshots.
    #[serde(default)]
    pub particles: usize,
    /// Largest reverse-particle time step (default T/1000); steps are shortened so that
    /// the drift moves a particle at most half a cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub particle_dt: Option<f64>,
    #[serde(default)]
    pub particle_seed: u64,
}

impl Default for ReverseSection {
    fn default() -> Self {
        Self {
            eta: 1.0,
            start: default_start(),
            mode: default_reverse_mode(),
            store_every: default_store_every(),
            memory_budget_mib: default_memory_budget_mib(),
            disk_budget_mib: default_disk_budget_mib(),
            safety: default_reverse_safety(),
            flux: Default::default(),
            sliced_w1_directions: default_sliced_directions(),
            particles: 0,
            particle_dt: None,
            particle_seed: 0,
        }
    }
}
