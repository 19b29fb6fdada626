//! [run] and [stop]: the time span, precision, schedules and the stops of a run.

use serde::{Deserialize, Serialize};

use super::defaults::*;
pub use crate::kinds::Precision;

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    pub t_final: f64,
    #[serde(default)]
    pub precision: Precision,
    /// Times at which snapshots (and frames) are written, besides t = 0 and the end.
    #[serde(default)]
    pub output_times: Vec<f64>,
    /// Also write a snapshot every this much simulated time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_every: Option<f64>,
    /// Diagnostics every k steps.
    #[serde(default = "default_diagnostics_every")]
    pub diagnostics_every: u64,
    #[serde(default = "default_max_steps")]
    pub max_steps: u64,
    /// Stop (status `stalled`) when simulated time advances by less than
    /// `stall_fraction` × t_final over this many steps (0: never).
    #[serde(default = "default_stall_steps")]
    pub stall_steps: u64,
    #[serde(default = "default_stall_fraction")]
    pub stall_fraction: f64,
    /// Write a checkpoint every this many steps (a multiple of diagnostics_every).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_every: Option<u64>,
    /// Also write one at the first diagnostics step after this many seconds of wall time
    /// since the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_seconds: Option<f64>,
    /// Stop (status `wall-time`) at the first step boundary after this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_time_limit: Option<f64>,
    /// Worker threads for the CPU backend (default: all cores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StopSection {
    /// Stop (condensation) when the positivity bound on Δt falls below this fraction
    /// of its value at t = 0.
    #[serde(default = "default_dt_collapse_fraction")]
    pub dt_collapse_fraction: f64,
    /// Stop (condensation) when ‖f‖∞ exceeds this.
    #[serde(default = "default_max_density")]
    pub max_density: f64,
}

impl Default for StopSection {
    fn default() -> Self {
        Self { dt_collapse_fraction: default_dt_collapse_fraction(), max_density: default_max_density() }
    }
}
