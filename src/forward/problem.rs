//! The forward problem, built once from a validated config and passed down: the
//! discretisation (grid, model, scheme, integrator, Δt policy), the initial field, the
//! schedule and the stop thresholds.

use crate::config::{Config, Integrator, Precision, SchemeKind};
use crate::error::Result;
use crate::grid::Grid;
use crate::kinds::DtPolicy;
use crate::model::initial_density::InitialDensity;
use crate::model::ModelParams;

/// Everything that fixes the discrete evolution.
#[derive(Clone, Debug)]
pub struct Discretisation {
    pub grid: Grid,
    pub params: ModelParams,
    pub scheme: SchemeKind,
    pub integrator: Integrator,
    pub log_floor: f64,
    pub dt: DtPolicy,
    /// The local error an implicit step may make (relative; `scheme.time_tolerance`).
    pub time_tolerance: f64,
    /// GPU steps per pass (temporal blocking; `scheme.steps_per_pass`).
    pub steps_per_pass: u32,
}

impl Discretisation {
    pub fn from_config(config: &Config) -> Result<Self> {
        Ok(Self {
            grid: config.grid()?,
            params: config.model_params(),
            scheme: config.scheme.kind,
            integrator: config.scheme.integrator,
            log_floor: config.scheme.log_floor,
            dt: match config.scheme.dt {
                Some(dt) => DtPolicy::Fixed(dt),
                None => DtPolicy::Adaptive { safety: config.scheme.safety },
            },
            time_tolerance: config.scheme.time_tolerance,
            steps_per_pass: config.scheme.steps_per_pass,
        })
    }
}

/// What stops a run early besides its end time (condensation).
#[derive(Clone, Copy, Debug)]
pub struct StopThresholds {
    /// Stop when the step bound falls below this fraction of its t = 0 value.
    pub dt_collapse_fraction: f64,
    /// Stop when ‖f‖∞ exceeds this.
    pub max_density: f64,
}

/// A validated forward problem.
#[derive(Clone, Debug)]
pub struct Problem {
    pub name: String,
    pub disc: Discretisation,
    /// The initial density as described (particles sample from it).
    pub density: InitialDensity,
    /// f(0) on the grid, rescaled to the requested mass.
    pub initial: Vec<f64>,
    /// The requested initial mass.
    pub mass: f64,
    pub precision: Precision,
    pub threads: Option<usize>,
    pub t_final: f64,
    /// Snapshot times in increasing order, ending with t_final.
    pub output_times: Vec<f64>,
    pub diagnostics_every: u64,
    pub max_steps: u64,
    /// Seconds of wall time after which the run stops at a step boundary.
    pub wall_time_limit: Option<f64>,
    /// The progress watchdog: (window of steps, least advance of t over it).
    pub stall: Option<(u64, f64)>,
    /// Steps between checkpoints.
    pub checkpoint_every: Option<u64>,
    /// Seconds of wall time between checkpoints.
    pub checkpoint_seconds: Option<f64>,
    pub stop: StopThresholds,
}

/// Fermion densities stay below saturation β^{−1/γ}: an initial density that reaches it
/// is refused, naming the key that sets its height.
fn check_admissible(params: &ModelParams, initial: &[f64]) -> Result<()> {
    let Some(saturation) = params.saturation() else { return Ok(()) };
    let peak = initial.iter().fold(0.0f64, |a, &b| a.max(b));
    if peak < saturation {
        return Ok(());
    }
    Err(crate::error::ConfigError::new(
        "initial.mass",
        format!(
            "the initial density reaches {peak:.6e}, at or above the saturation β^(−1/γ) = {saturation:.6e} of model.statistics = \"fermi\" (densities must stay below it): lower initial.mass or model.beta, or spread the initial density"
        ),
    )
    .into())
}

impl Problem {
    pub fn from_config(config: &Config) -> Result<Self> {
        let disc = Discretisation::from_config(config)?;
        let density = config.initial_density()?;
        let initial = density.on_grid(&disc.grid, config.initial.mass)?;
        check_admissible(&disc.params, &initial)?;
        Ok(Self {
            name: config.name.clone(),
            disc,
            density,
            initial,
            mass: config.initial.mass,
            precision: config.run.precision,
            threads: config.run.threads,
            t_final: config.run.t_final,
            output_times: config.output_times(),
            diagnostics_every: config.run.diagnostics_every,
            max_steps: config.run.max_steps,
            wall_time_limit: config.run.wall_time_limit,
            checkpoint_every: config.run.checkpoint_every,
            checkpoint_seconds: config.run.checkpoint_seconds,
            stall: (config.run.stall_steps > 0)
                .then_some((config.run.stall_steps, config.run.stall_fraction * config.run.t_final)),
            stop: StopThresholds {
                dt_collapse_fraction: config.stop.dt_collapse_fraction,
                max_density: config.stop.max_density,
            },
        })
    }

    pub fn grid(&self) -> &Grid {
        &self.disc.grid
    }

    pub fn params(&self) -> &ModelParams {
        &self.disc.params
    }
}
