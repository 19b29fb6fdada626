//! Generation (MATH.md §3): run the forward model to T keeping snapshots, then integrate
//! (R_η) from s = 0 to T, starting from f(T) (`terminal`) or from the asymptotic state
//! computed by the equilibrium calculator (`equilibrium`: f_θ on the grid, with the excess
//! over M_c in the origin cell), and compare the result with f(0). CPU, f64.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::consistent::SchemeReverse;
use super::pde::ReversePde;
use super::store::SnapshotStore;
use crate::backend::cpu::{CpuBackend, Discretisation};
use crate::backend::{Backend, DtPolicy, StepControl};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::model::equilibrium;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Start {
    Terminal,
    Equilibrium,
}

/// How the reverse step is discretised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReverseMode {
    /// Reverse every stored forward step with its own fluxes (MATH.md §3, discretely
    /// exact): needs every step stored and the Euler integrator.
    Exact,
    /// (R_η) with the score implied by the forward scheme's fluxes, between checkpoints.
    Scheme,
    /// (R_η) with face scores (log f₊ − log f₋)/h and upwind transport (`pde.rs`).
    LogScore,
}

#[derive(Clone, Debug)]
pub struct ReverseSettings {
    pub eta: f64,
    pub start: Start,
    pub mode: ReverseMode,
    /// Keep a forward snapshot every this many steps (1: every step).
    pub store_every: u64,
    pub memory_budget_bytes: u64,
    pub safety: f64,
    pub log_floor: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Generation {
    pub forward_steps: u64,
    pub reverse_steps: u64,
    pub snapshots: usize,
    pub store_memory_bytes: u64,
    pub store_disk_bytes: u64,
    pub forward_seconds: f64,
    pub reverse_seconds: f64,
    pub l1_to_initial: f64,
    pub rel_l1_to_initial: f64,
    pub mass_initial: f64,
    pub mass_generated: f64,
    pub min_generated: f64,
    #[serde(skip)]
    pub initial: Vec<f64>,
    #[serde(skip)]
    pub terminal: Vec<f64>,
    #[serde(skip)]
    pub generated: Vec<f64>,
}

/// Forward to run.t_final, then reverse; spills snapshots into `spill_dir` beyond the budget.
pub fn generate(config: &Config, settings: &ReverseSettings, spill_dir: &Path) -> Result<Generation> {
    let disc = Discretisation::from_config(config)?;
    let grid: Grid = disc.grid.clone();
    let params = disc.params;
    let mass = config.initial.mass;
    let f0 = config.initial_density()?.on_grid(&grid, mass)?;
    let t_final = config.run.t_final;

    // forward, keeping snapshots
    let clock = Instant::now();
    let mut forward = CpuBackend::<f64>::new(disc.clone(), config.run.threads)?;
    forward.upload(&f0, 0.0)?;
    let mut store = SnapshotStore::new(grid.len(), settings.memory_budget_bytes, spill_dir);
    store.push(0.0, &f0)?;
    let ctl = StepControl {
        dt: match config.scheme.dt {
            Some(dt) => DtPolicy::Fixed(dt),
            None => DtPolicy::Adaptive { safety: config.scheme.safety },
        },
        t_stop: t_final,
        dt_bound_floor: 0.0,
        max_density: f64::INFINITY,
    };
    if settings.mode == ReverseMode::Exact && disc.integrator != crate::config::Integrator::Euler {
        return Err(Error::Numerics(
            "reverse.mode = \"exact\" reverses forward Euler steps: set scheme.integrator = \"euler\"".into(),
        ));
    }
    let store_every = if settings.mode == ReverseMode::Exact { 1 } else { settings.store_every.max(1) };
    // every step's Δt is kept (the exact and scheme modes retrace the forward time grid),
    // the field every `store_every` steps and at T
    let mut times = vec![0.0];
    let mut dts = Vec::new();
    let mut field = f0.clone();
    while forward.time() < t_final {
        let out = forward.step_n(1, &ctl)?;
        if let Some(stop) = out.stop {
            return Err(Error::Numerics(format!("forward run stopped: {}", stop.message())));
        }
        if out.steps == 0 {
            break;
        }
        dts.push(out.dt_last);
        times.push(forward.time());
        if dts.len() as u64 % store_every == 0 || forward.time() >= t_final {
            forward.read_back(&mut field)?;
            store.push(forward.time(), &field)?;
        }
    }
    let forward_steps = dts.len() as u64;
    let terminal = field.clone();
    let forward_seconds = clock.elapsed().as_secs_f64();

    // reverse: s runs from 0 to T, f(T − s) from the store
    let clock = Instant::now();
    let mut g = match settings.start {
        Start::Terminal => terminal.clone(),
        Start::Equilibrium => equilibrium::grid_profile(&params, &grid, mass).1,
    };
    let reverse_steps = match settings.mode {
        ReverseMode::Exact | ReverseMode::Scheme => {
            retrace_forward_steps(&disc, settings.eta, &store, &times, &dts, &mut g)?
        }
        ReverseMode::LogScore => reverse_log_score(&disc, settings, &store, t_final, &mut g)?,
    };
    let reverse_seconds = clock.elapsed().as_secs_f64();
    let vol = grid.cell_volume();
    let l1: f64 = g.iter().zip(&f0).map(|(a, b)| (a - b).abs()).sum::<f64>() * vol;
    Ok(Generation {
        forward_steps,
        reverse_steps,
        snapshots: store.times().len(),
        store_memory_bytes: store.memory_bytes(),
        store_disk_bytes: store.disk_bytes(),
        forward_seconds,
        reverse_seconds,
        l1_to_initial: l1,
        rel_l1_to_initial: l1 / mass,
        mass_initial: f0.iter().sum::<f64>() * vol,
        mass_generated: g.iter().sum::<f64>() * vol,
        min_generated: g.iter().copied().fold(f64::INFINITY, f64::min),
        initial: f0,
        terminal,
        generated: g,
    })
}

/// Undo the forward steps one by one, last first: step n (t_n → t_{n+1}, Δt_n) is reversed
/// with the fluxes of f^n and the divisor f^{n+1}, then smoothed towards f^n. With every step
/// stored this is the exact mode; otherwise f^n is interpolated between checkpoints.
fn retrace_forward_steps(
    disc: &Discretisation,
    eta: f64,
    store: &SnapshotStore,
    times: &[f64],
    dts: &[f64],
    g: &mut Vec<f64>,
) -> Result<u64> {
    let mut op = SchemeReverse::new(disc, eta);
    let mut next = vec![0.0; g.len()];
    let mut after = vec![0.0; g.len()];
    let mut before = vec![0.0; g.len()];
    store.interpolate(times[dts.len()], &mut after)?;
    for n in (0..dts.len()).rev() {
        store.interpolate(times[n], &mut before)?;
        op.set_transport(&before, &after);
        op.transport(g, dts[n], &mut next);
        op.smooth(&before, dts[n], &mut next);
        std::mem::swap(g, &mut next);
        std::mem::swap(&mut before, &mut after);
    }
    Ok(dts.len() as u64)
}

/// Integrate (R_η) with log-difference face scores over s ∈ [0, T], f(T − s) interpolated
/// from the store and frozen over each step, Δt = safety × the step's positivity bound.
fn reverse_log_score(
    disc: &Discretisation,
    settings: &ReverseSettings,
    store: &SnapshotStore,
    t_final: f64,
    g: &mut Vec<f64>,
) -> Result<u64> {
    let mut pde = ReversePde::new(&disc.grid, &disc.params, settings.eta, settings.log_floor);
    let mut field = vec![0.0; g.len()];
    let mut next = vec![0.0; g.len()];
    let mut s = 0.0;
    let mut steps = 0u64;
    while s < t_final {
        store.interpolate((t_final - s).max(0.0), &mut field)?;
        pde.set_forward(&field);
        let mut dt = settings.safety * pde.bound();
        let lands = s + dt >= t_final;
        if lands {
            dt = t_final - s;
        }
        pde.step(g, dt, &mut next);
        std::mem::swap(g, &mut next);
        s = if lands { t_final } else { s + dt };
        steps += 1;
    }
    Ok(steps)
}
