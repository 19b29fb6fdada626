//! The status and message of a finished grid run. Condensation is a model verdict, not a
//! threshold's: a run is `condensed` when its origin cell came to hold more than the
//! critical profile's share r_h (`model::condensation`), whether it then went on to
//! t_final or stopped at `stop.max_density`; a stop there before that is `stopped`.

use super::simulation::EndReason;
use crate::forward::{Problem, StopReason};
use crate::model::condensation::Condensation;

/// The largest relative change of the mass a run may show before it counts as failed
/// (f64 runs keep it to 1e-12, f32 runs to about 1e-6).
const MAX_MASS_DRIFT: f64 = 1e-3;

/// The statuses of a run that reached its end (a sweep skips them, the particles start).
pub const FINISHED: [&str; 3] = ["completed", "condensed", "stopped"];

pub struct VerdictInputs<'a> {
    pub end: &'a EndReason,
    pub t: f64,
    pub step: u64,
    pub problem: &'a Problem,
    pub dt_bound: f64,
    pub condensation: Option<&'a Condensation>,
    pub mass_requested: f64,
    pub mass0: f64,
    pub mass_final: f64,
    pub max_drift: f64,
}

pub struct Verdict {
    pub status: &'static str,
    pub message: String,
}

impl Verdict {
    pub fn of(v: &VerdictInputs) -> Verdict {
        let (status, message) = ending(v);
        // A conservative scheme keeps the mass to round-off; losing it (an f32 field that
        // underflows, an overflow) is a failure whatever else the run reached.
        // (also at the upload: an f32 field of tiny values rounds to subnormals or zero)
        let upload_loss = ((v.mass0 - v.mass_requested) / v.mass_requested).abs();
        let drift = ((v.mass_final - v.mass0) / v.mass0).abs().max(v.max_drift).max(upload_loss);
        let conserved = drift <= MAX_MASS_DRIFT; // false for NaN too
        if status != "failed" && !conserved {
            return Verdict {
                status: "failed",
                message: format!(
                    "mass not conserved: {:e} requested, {:e} at t = 0, {:e} at t = {:.6e} (relative drift {drift:e} > {MAX_MASS_DRIFT:e}); try run.precision = \"f64\"",
                    v.mass_requested, v.mass0, v.mass_final, v.t
                ),
            };
        }
        Verdict { status, message }
    }
}

fn ending(v: &VerdictInputs) -> (&'static str, String) {
    let (t, step, t_final) = (v.t, v.step, v.problem.t_final);
    let blowup = v.condensation.and_then(|c| c.blowup_time);
    // `condensed` when the origin cell crossed r_h, else `otherwise`
    let judged = |how: String, otherwise: &'static str, not_yet: &str| match blowup {
        Some(at) => (
            "condensed",
            format!("{how}; the origin cell passed the critical profile's share at t = {at:.6e}"),
        ),
        None => (otherwise, format!("{how}{not_yet}")),
    };
    match v.end {
        EndReason::MaxSteps => (
            "max-steps",
            format!(
                "stopped at run.max_steps = {} with t = {t:.6e} < t_final = {t_final}",
                v.problem.max_steps
            ),
        ),
        EndReason::WallTime => (
            "wall-time",
            format!(
                "stopped at run.wall_time_limit = {} s with t = {t:.6e} < t_final = {t_final}",
                v.problem.wall_time_limit.unwrap_or(0.0)
            ),
        ),
        EndReason::Completed => judged(format!("reached t = {t:.6e} in {step} steps"), "completed", ""),
        EndReason::Interrupted => ("interrupted", format!("interrupted at t = {t:.6e} (step {step})")),
        EndReason::Stalled { steps, advanced, least } => (
            "stalled",
            format!(
                "stalled: t advanced by {advanced:.3e} over the last {steps} steps, less than run.stall_fraction × t_final = {least:.3e} (the step bound is {:.3e}) at t = {t:.6e}; raise run.stall_steps or set it to 0 to go on regardless",
                v.dt_bound
            ),
        ),
        EndReason::Stopped(r) if r.is_condensation() => judged(
            format!("{} at t = {t:.6e} (step {step})", r.message()),
            "stopped",
            ", before the origin cell held more than the critical profile's share",
        ),
        EndReason::Stopped(StopReason::NonFinite) => (
            "failed",
            format!("NaN or Inf in the step after t = {t:.6e} (step {step}); f_final.npy holds the last finite state"),
        ),
        EndReason::Stopped(r) => ("failed", format!("{} at t = {t:.6e} (step {step})", r.message())),
    }
}
