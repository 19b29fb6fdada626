//! [scheme]: the finite-volume scheme, its integrator and the Δt policy.

use serde::{Deserialize, Serialize};

use super::defaults::*;
pub use crate::kinds::{Integrator, SchemeKind};

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SchemeSection {
    #[serde(default)]
    pub kind: SchemeKind,
    #[serde(default)]
    pub integrator: Integrator,
    /// Fixed Δt; when absent Δt is adaptive: safety × positivity bound, every step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dt: Option<f64>,
    #[serde(default = "default_safety")]
    pub safety: f64,
    /// Floor on f inside log f (gradient-flow scheme).
    #[serde(default = "default_log_floor")]
    pub log_floor: f64,
    /// Implicit integrators: the local error a step may make, relative to |f| plus the
    /// mean density.
    #[serde(default = "default_time_tolerance")]
    pub time_tolerance: f64,
    /// GPU: steps one pass takes on a tile held in workgroup memory (temporal blocking);
    /// 1 takes one pass per step.
    #[serde(default = "default_steps_per_pass")]
    pub steps_per_pass: u32,
}

impl Default for SchemeSection {
    fn default() -> Self {
        Self {
            kind: SchemeKind::default(),
            integrator: Integrator::default(),
            dt: None,
            safety: default_safety(),
            log_floor: default_log_floor(),
            time_tolerance: default_time_tolerance(),
            steps_per_pass: default_steps_per_pass(),
        }
    }
}
