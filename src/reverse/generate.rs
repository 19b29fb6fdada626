//! Generation (MATH.md §3): run the forward model to T keeping snapshots, then integrate
//! (R_η) from s = 0 to T, starting from f(T) (`terminal`) or from the asymptotic state
//! computed by the equilibrium calculator (`equilibrium`: f_θ on the grid, with the excess
//! over M_c in the origin cell), and compare the result with f(0). CPU, f64.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

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

#[derive(Clone, Debug)]
pub struct ReverseSettings {
    pub eta: f64,
    pub start: Start,
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
    let mut forward = CpuBackend::<f64>::new(disc, config.run.threads)?;
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
    let mut field = vec![0.0; grid.len()];
    let mut forward_steps = 0;
    while forward.time() < t_final {
        let out = forward.step_n(settings.store_every.max(1), &ctl)?;
        if let Some(stop) = out.stop {
            return Err(Error::Numerics(format!("forward run stopped: {}", stop.message())));
        }
        if out.steps == 0 {
            break;
        }
        forward_steps += out.steps;
        forward.read_back(&mut field)?;
        store.push(forward.time(), &field)?;
    }
    let terminal = field.clone();
    let forward_seconds = clock.elapsed().as_secs_f64();

    // reverse: s runs from 0 to T, f(T − s) from the store
    let clock = Instant::now();
    let mut g = match settings.start {
        Start::Terminal => terminal.clone(),
        Start::Equilibrium => equilibrium::grid_profile(&params, &grid, mass).1,
    };
    let mut pde = ReversePde::new(&grid, &params, settings.eta, settings.log_floor);
    let mut next = vec![0.0; grid.len()];
    let mut s = 0.0;
    let mut reverse_steps = 0u64;
    while s < t_final {
        store.interpolate((t_final - s).max(0.0), &mut field)?;
        pde.set_forward(&field);
        let mut dt = settings.safety * pde.bound();
        if s + dt >= t_final {
            dt = t_final - s;
        }
        pde.step(&g, dt, &mut next);
        std::mem::swap(&mut g, &mut next);
        s = if dt == t_final - s { t_final } else { s + dt };
        reverse_steps += 1;
    }
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
