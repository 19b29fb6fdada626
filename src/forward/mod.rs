//! The `ForwardStepper` trait: where the field lives and how it is stepped. The CPU reference
//! implements it here; the GPU backend implements the same trait.

pub mod cpu;
pub mod gpu;
pub mod implicit;
pub mod problem;

pub use crate::kinds::DtPolicy;
pub use problem::{Discretisation, Problem, StopThresholds};

use serde::Serialize;

use crate::error::Result;
use crate::gpu::Device;

/// What `step_n` may do: the time not to step past, and the thresholds that stop a run
/// (condensation). The Δt policy is the discretisation's.
#[derive(Clone, Copy, Debug)]
pub struct StepControl {
    /// The last step is shortened to land exactly on this time.
    pub t_stop: f64,
    /// Stop when the positivity bound falls below this (dt collapse).
    pub dt_bound_floor: f64,
    /// Stop when ‖f‖∞ exceeds this.
    pub max_density: f64,
}

/// Why a backend stopped before doing all requested steps.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum StopReason {
    /// The explicit Δt bound collapsed: a condensate is forming.
    DtCollapse { dt_bound: f64, floor: f64 },
    /// ‖f‖∞ passed the configured bound.
    DensityBound { max_density: f64, bound: f64 },
    /// A fixed Δt is above the positivity bound of the current state.
    FixedDtUnstable { dt: f64, dt_bound: f64 },
    /// NaN or Inf appeared in the field.
    NonFinite,
}

impl StopReason {
    pub fn is_condensation(&self) -> bool {
        matches!(self, StopReason::DtCollapse { .. } | StopReason::DensityBound { .. })
    }

    pub fn message(&self) -> String {
        match self {
            StopReason::DtCollapse { dt_bound, floor } => format!(
                "condensation: the explicit time-step bound fell to {dt_bound:.3e}, below the stop threshold {floor:.3e} (stop.dt_collapse_fraction of its initial value)"
            ),
            StopReason::DensityBound { max_density, bound } => format!(
                "condensation: max density {max_density:.3e} exceeds stop.max_density = {bound:.3e}"
            ),
            StopReason::FixedDtUnstable { dt, dt_bound } => format!(
                "the fixed time step {dt:.3e} now exceeds the positivity bound {dt_bound:.3e}; use an adaptive step (remove scheme.dt) or a smaller one"
            ),
            StopReason::NonFinite => "NaN or Inf in the density".to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct StepOutcome {
    pub steps: u64,
    /// Δt of the last step taken (0 if none).
    pub dt_last: f64,
    pub stop: Option<StopReason>,
}

/// Reductions of the current field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Diagnostics {
    pub t: f64,
    pub mass: f64,
    pub min: f64,
    pub max: f64,
    /// ‖f‖₂ = (Σ f² h^d)^{1/2}
    pub l2: f64,
    /// H = Σ (λ|x|²/2 f + D Φ(f)) h^d
    pub entropy: f64,
    /// Σ |x|² f h^d
    pub second_moment: f64,
    /// Mass in the origin cell (the 2^d central cells when N is even).
    pub origin_mass: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct BackendInfo {
    pub backend: String,
    pub precision: String,
    pub device: String,
    pub threads: usize,
}

pub trait ForwardStepper {
    fn info(&self) -> BackendInfo;
    /// Replace the field (host values in f64) and set the time.
    fn upload(&mut self, field: &[f64], t: f64) -> Result<()>;
    /// Advance up to `max_steps` steps, stopping early at `ctl.t_stop` or for a
    /// `StopReason`.
    fn step_n(&mut self, max_steps: u64, ctl: &StepControl) -> Result<StepOutcome>;
    /// Replace the Δt policy (the discretisation's) for the steps that follow.
    fn set_dt_policy(&mut self, dt: DtPolicy) -> Result<()>;
    /// Positivity bound on Δt for the current field.
    fn dt_bound(&mut self) -> f64;
    fn diagnostics(&mut self) -> Result<Diagnostics>;
    /// Copy the field into `out` (length N^d).
    fn read_back(&mut self, out: &mut [f64]) -> Result<()>;
    fn time(&self) -> f64;
    /// The current field as a frame drawn where it lives, when the backend can (the GPU
    /// colour-maps 2D fields on the device and reads back only the image); None: the
    /// caller reads the field back and draws it on the host.
    fn render_frame(&mut self, _style: &crate::io::frames::FrameStyle) -> Result<Option<image::RgbImage>> {
        Ok(None)
    }
    /// What the stepper caches from its last step besides the field (the step bound's
    /// inputs), for a checkpoint: restored as is, the next steps are the same bits.
    fn cached_state(&self) -> Vec<f64> {
        Vec::new()
    }
    fn restore_cached_state(&mut self, _state: &[f64]) -> Result<()> {
        Ok(())
    }
}

/// A checkpoint written by the other backend: its cached values do not apply.
fn other_backends_checkpoint() {
    log::warn!(
        "the checkpoint comes from another backend: the step bound is measured afresh, so the resumed run is not bit for bit the run that would have gone through"
    );
}

/// The forward backend of a problem on a resolved device: the GPU stepper (f32) when the
/// device is a GPU, else the CPU reference in the problem's precision.
pub fn create(problem: &Problem, device: &Device) -> Result<Box<dyn ForwardStepper>> {
    use crate::config::Precision;
    let disc = &problem.disc;
    if disc.integrator.is_implicit() {
        if let Device::Gpu(_) = device {
            return Err(crate::error::Error::Unsupported(format!(
                "scheme.integrator = \"{}\" runs on the CPU: use --backend cpu",
                disc.integrator.name()
            )));
        }
        return Ok(Box::new(implicit::ImplicitGradientFlow::new(
            disc.clone(),
            disc.time_tolerance,
            problem.threads,
        )?));
    }
    let bytes = (disc.grid.len() * 4) as u64;
    match device.gpu_for_grid(bytes, disc.grid.dim)? {
        Some(ctx) => {
            if problem.precision == Precision::F64 {
                log::warn!("the GPU backend computes in f32; run.precision = \"f64\" applies to the CPU backend only");
            }
            Ok(Box::new(gpu::backend::GpuBackend::new(ctx.clone(), disc)?))
        }
        None => Ok(match problem.precision {
            Precision::F64 => Box::new(cpu::CpuBackend::<f64>::new(disc.clone(), problem.threads)?),
            Precision::F32 => Box::new(cpu::CpuBackend::<f32>::new(disc.clone(), problem.threads)?),
        }),
    }
}

/// Why `auto` keeps the forward run of `config` on the CPU (None: the GPU can run it).
pub fn gpu_unsupported(config: &crate::config::Config) -> Option<String> {
    (config.run.precision == crate::config::Precision::F64)
        .then(|| "run.precision = \"f64\"; the GPU computes in f32".to_string())
}
