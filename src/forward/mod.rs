//! The `Backend` trait: where the field lives and how it is stepped. The CPU reference
//! implements it here; the GPU backend implements the same trait.

pub mod cpu;
pub mod gpu;

use serde::Serialize;

use crate::error::Result;

/// How Δt is chosen each step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DtPolicy {
    Fixed(f64),
    /// safety × positivity bound of the current state.
    Adaptive {
        safety: f64,
    },
}

/// What `step_n` may do: the Δt policy, the time not to step past, and the thresholds
/// that stop a run (condensation).
#[derive(Clone, Copy, Debug)]
pub struct StepControl {
    pub dt: DtPolicy,
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

pub trait Backend {
    fn info(&self) -> BackendInfo;
    /// Replace the field (host values in f64) and set the time.
    fn upload(&mut self, field: &[f64], t: f64) -> Result<()>;
    /// Advance up to `max_steps` steps, stopping early at `ctl.t_stop` or for a
    /// `StopReason`.
    fn step_n(&mut self, max_steps: u64, ctl: &StepControl) -> Result<StepOutcome>;
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
}

/// Which backend `fpgen run` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// The CPU reference path (rayon, f32 or f64).
    Cpu,
    /// The wgpu backend (f32); fails when no adapter exists.
    Gpu,
    /// The GPU when an adapter exists and the config runs there, else the CPU (said once).
    Auto,
}

/// The GPU device of a process: opened at most once and shared by its runs (`fpgen
/// batch`), with limits for the largest grid it will hold. A failure to open it is kept,
/// so that `auto` says once that it falls back to the CPU.
#[derive(Default)]
pub struct SharedDevice {
    ctx: Option<std::sync::Arc<gpu::GpuContext>>,
    failure: Option<String>,
    reserve_bytes: u64,
}

impl SharedDevice {
    /// A device that will hold fields of up to `bytes` per buffer.
    pub fn reserving(bytes: u64) -> Self {
        Self { reserve_bytes: bytes, ..Self::default() }
    }

    /// The shared device, opened (once) with room for fields of this grid.
    pub fn open_for(&mut self, grid: &crate::grid::Grid) -> Result<std::sync::Arc<gpu::GpuContext>> {
        let bytes = (grid.len() * 4) as u64;
        if let Some(ctx) = &self.ctx {
            crate::gpu::context::check_limits(&ctx.device.limits(), bytes, grid.dim)?;
            return Ok(ctx.clone());
        }
        if let Some(message) = &self.failure {
            return Err(gpu::GpuError::Other(message.clone()).into());
        }
        match gpu::GpuContext::new(bytes.max(self.reserve_bytes), grid.dim) {
            Ok(ctx) => {
                let ctx = std::sync::Arc::new(ctx);
                self.ctx = Some(ctx.clone());
                Ok(ctx)
            }
            Err(e) => {
                self.failure = Some(e.to_string());
                Err(e.into())
            }
        }
    }
}

/// Build the backend for a validated config (opening a GPU device of its own).
pub fn create(config: &crate::config::Config, kind: BackendKind) -> Result<Box<dyn Backend>> {
    create_on(config, kind, &mut SharedDevice::default())
}

/// Build the backend for a validated config on a shared GPU device.
pub fn create_on(
    config: &crate::config::Config,
    kind: BackendKind,
    device: &mut SharedDevice,
) -> Result<Box<dyn Backend>> {
    use crate::config::Precision;
    let disc = cpu::Discretisation::from_config(config)?;
    let threads = config.run.threads;
    let cpu = |disc: cpu::Discretisation| -> Result<Box<dyn Backend>> {
        Ok(match config.run.precision {
            Precision::F64 => Box::new(cpu::CpuBackend::<f64>::new(disc, threads)?),
            Precision::F32 => Box::new(cpu::CpuBackend::<f32>::new(disc, threads)?),
        })
    };
    let policy = match config.scheme.dt {
        Some(dt) => DtPolicy::Fixed(dt),
        None => DtPolicy::Adaptive { safety: config.scheme.safety },
    };
    let known_failure = device.failure.is_some();
    let mut gpu = |disc: &cpu::Discretisation| -> Result<Box<dyn Backend>> {
        let ctx = device.open_for(&disc.grid)?;
        Ok(Box::new(gpu::backend::GpuBackend::new(ctx, disc, policy)?))
    };
    match kind {
        BackendKind::Cpu => cpu(disc),
        BackendKind::Gpu => {
            if config.run.precision == Precision::F64 {
                log::warn!("the GPU backend computes in f32; run.precision = \"f64\" applies to the CPU backend only");
            }
            gpu(&disc)
        }
        BackendKind::Auto => {
            if config.run.precision == Precision::F64 {
                log::info!("backend auto: run.precision = \"f64\" runs on the CPU (the GPU backend is f32)");
                return cpu(disc);
            }
            match gpu(&disc) {
                Ok(b) => Ok(b),
                Err(e) => {
                    if !known_failure {
                        log::info!("backend auto: falling back to the CPU ({e})");
                    }
                    cpu(disc)
                }
            }
        }
    }
}
