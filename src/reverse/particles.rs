//! Reverse particles (docs/MATH.md §3): the reverse SDE
//!
//!   dY = [ λY (1 + β f^γ) + (D + η) ∇log f ] ds + √(2η) dW̄,   f = f(T − s, Y),
//!
//! for particles sampled from the starting state, with f taken from the stored forward
//! snapshots. The drift is the scheme's reverse face velocity (`SchemeReverse::
//! face_velocities`: −F/f + η ∇log f, the discrete form of the bracket) interpolated
//! linearly on the staggered grid — each component linear between the two faces of the
//! particle's cell along its axis and between cell centres across. Euler–Maruyama with
//! Δt = min(the configured Δt, h / (2 max|velocity|)), reflecting walls, normals from the
//! shared counter-based generator (counter (particle, step, 0)). The host computes the
//! velocities every step; the particles move on the CPU (`CpuMover`, f64) or on the device
//! (`DeviceMover`, f32, shaders/reverse_particles.wgsl).

use super::consistent::SchemeReverse;
use super::store::SnapshotStore;
use crate::error::Result;
use crate::forward::cpu::Discretisation;
use crate::gpu::GpuContext;
use crate::grid::Grid;
use crate::particles::reflect;
use crate::reverse::gpu_particles::GpuReverseParticles;
use crate::rng;

pub struct ReverseParticleSettings {
    /// Largest step; the drift further limits it to half a cell.
    pub dt: f64,
    pub eta: f64,
    pub log_floor: f64,
}

/// Position of x on an axis in cell units: (cell, fraction in [0, 1] from its low face).
fn locate(grid: &Grid, x: f64) -> (usize, f64) {
    let u = (x + grid.half_width) / grid.h();
    let cell = (u.floor().max(0.0) as usize).min(grid.cells - 1);
    (cell, (u - cell as f64).clamp(0.0, 1.0))
}

/// Neighbouring cell centres around x on an axis and the weight of the upper one.
fn centres_around(grid: &Grid, x: f64) -> (usize, usize, f64) {
    let u = (x + grid.half_width) / grid.h() - 0.5;
    let n = grid.cells;
    if u <= 0.0 {
        return (0, 0, 0.0);
    }
    let low = (u.floor() as usize).min(n - 1);
    let high = (low + 1).min(n - 1);
    (low, high, if high == low { 0.0 } else { u - low as f64 })
}

/// Velocity at a position (axis 0 first) from the face velocities.
fn velocity_at(grid: &Grid, along: &[f64], across: &[f64], pos: &[f64], out: &mut [f64]) {
    let n = grid.cells;
    if grid.dim == 1 {
        let (j, w) = locate(grid, pos[0]);
        out[0] = (1.0 - w) * along[j] + w * along[j + 1];
        return;
    }
    // axis 0: across faces (row faces k, column c); axis 1: along faces (row r, face k)
    let (r, w0) = locate(grid, pos[0]);
    let (c0, c1, wc) = centres_around(grid, pos[1]);
    let across_at = |k: usize, c: usize| across[k * n + c];
    let at_c = |k: usize| (1.0 - wc) * across_at(k, c0) + wc * across_at(k, c1);
    out[0] = (1.0 - w0) * at_c(r) + w0 * at_c(r + 1);
    let (j, w1) = locate(grid, pos[1]);
    let (r0, r1, wr) = centres_around(grid, pos[0]);
    let along_at = |row: usize, k: usize| along[row * (n + 1) + k];
    let at_r = |k: usize| (1.0 - wr) * along_at(r0, k) + wr * along_at(r1, k);
    out[1] = (1.0 - w1) * at_r(j) + w1 * at_r(j + 1);
}

/// Where the particles are and how a step moves them: the CPU twin (f64, rayon) or the
/// device (`GpuReverseParticles`, f32).
pub trait ReverseStepper {
    /// One step of Δt with the face velocities `along` / `across`; `step` numbers the normals.
    fn step(&mut self, along: &[f64], across: &[f64], dt: f64, step: u32) -> Result<()>;
}

/// The CPU twin of shaders/reverse_particles.wgsl.
pub struct CpuMover<'a> {
    pub grid: &'a Grid,
    pub positions: &'a mut [f64],
    pub eta: f64,
    pub seed: u64,
}

impl ReverseStepper for CpuMover<'_> {
    fn step(&mut self, along: &[f64], across: &[f64], dt: f64, step: u32) -> Result<()> {
        move_particles(self.grid, along, across, dt, step, self.eta, self.seed, self.positions);
        Ok(())
    }
}

/// Reverse particles on the device (f32), their velocities from the host.
pub struct DeviceMover<'a> {
    ctx: &'a GpuContext,
    particles: GpuReverseParticles,
}

impl<'a> DeviceMover<'a> {
    pub fn new(ctx: &'a GpuContext, grid: &Grid, eta: f64, seed: u64, positions: &[f64]) -> Result<Self> {
        Ok(Self { ctx, particles: GpuReverseParticles::new(ctx, grid, eta, seed, positions)? })
    }

    /// The positions, widened to f64.
    pub fn read_positions(&self, out: &mut [f64]) -> Result<()> {
        let mut x32 = vec![0f32; out.len()];
        self.particles.read_positions(self.ctx, &mut x32)?;
        out.iter_mut().zip(&x32).for_each(|(x, &y)| *x = y as f64);
        Ok(())
    }
}

impl ReverseStepper for DeviceMover<'_> {
    fn step(&mut self, along: &[f64], across: &[f64], dt: f64, step: u32) -> Result<()> {
        self.particles.step(self.ctx, along, across, dt, step);
        Ok(())
    }
}

/// One Euler–Maruyama step of every particle (the twin of the `move_reverse` kernel).
#[allow(clippy::too_many_arguments)]
pub fn move_particles(
    grid: &Grid,
    along: &[f64],
    across: &[f64],
    dt: f64,
    step: u32,
    eta: f64,
    seed: u64,
    positions: &mut [f64],
) {
    use rayon::prelude::*;
    let d = grid.dim;
    let kick = (2.0 * eta * dt).sqrt();
    let l = grid.half_width;
    positions.par_chunks_mut(d).enumerate().for_each(|(id, p)| {
        let mut v = [0.0; 2];
        velocity_at(grid, along, across, p, &mut v[..d]);
        let z = rng::normals4(seed, id as u32, step, 0);
        for a in 0..d {
            p[a] = reflect(p[a] + v[a] * dt + kick * z[a] as f64, l);
        }
    });
}

/// The reverse particles' time stepping from s = 0 to T: f(T − s) is interpolated from the
/// store at the start of each step and turned into face velocities on the host; the
/// mover takes the step. The loop that drives it (interrupts, progress, limits) is the
/// run layer's `Simulation`.
pub struct ReverseParticles<'a> {
    grid: Grid,
    store: &'a SnapshotStore,
    settings: &'a ReverseParticleSettings,
    op: SchemeReverse,
    along: Vec<f64>,
    across: Vec<f64>,
    f: Vec<f64>,
    t_final: f64,
    s: f64,
    steps: u32,
}

impl<'a> ReverseParticles<'a> {
    pub fn new(
        disc: &Discretisation,
        store: &'a SnapshotStore,
        t_final: f64,
        settings: &'a ReverseParticleSettings,
    ) -> Self {
        let grid = disc.grid.clone();
        let (n, d) = (grid.cells, grid.dim);
        let rows = if d == 2 { n } else { 1 };
        Self {
            op: SchemeReverse::new(disc, settings.eta),
            along: vec![0.0; rows * (n + 1)],
            across: if d == 2 { vec![0.0; (n + 1) * n] } else { Vec::new() },
            f: vec![0.0; grid.len()],
            grid,
            store,
            settings,
            t_final,
            s: 0.0,
            steps: 0,
        }
    }

    /// Reverse time s (0 at the start, T at the end).
    pub fn time(&self) -> f64 {
        self.s
    }

    /// Steps taken.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// One step towards `s_stop` (landing on it), with Δt at most the configured one and
    /// half a cell of drift; returns Δt.
    pub fn step(&mut self, s_stop: f64, mover: &mut dyn ReverseStepper) -> Result<f64> {
        self.store.interpolate((self.t_final - self.s).max(0.0), &mut self.f)?;
        self.op.face_velocities(&self.f, self.settings.log_floor, &mut self.along, &mut self.across);
        // at most half a cell per step by the drift (the velocity is steep near a condensate)
        let fastest = self.along.iter().chain(self.across.iter()).fold(0.0, |m: f64, v| m.max(v.abs()));
        let dt_max = self.settings.dt.min(0.5 * self.grid.h() / fastest);
        let lands = self.s + dt_max >= s_stop * (1.0 - 1e-12);
        let dt = if lands { s_stop - self.s } else { dt_max };
        mover.step(&self.along, &self.across, dt, self.steps)?;
        self.s = if lands { s_stop } else { self.s + dt };
        self.steps += 1;
        Ok(dt)
    }
}

/// Histogram of positions on the grid as a density of total mass `mass`.
pub fn histogram(grid: &Grid, positions: &[f64], mass: f64) -> Vec<f64> {
    let d = grid.dim;
    let mut counts = vec![0.0; grid.len()];
    for p in positions.chunks_exact(d) {
        let (i0, _) = locate(grid, p[0]);
        let idx = if d == 1 { i0 } else { i0 * grid.cells + locate(grid, p[1]).0 };
        counts[idx] += 1.0;
    }
    let scale = mass / ((positions.len() / d) as f64 * grid.cell_volume());
    counts.iter_mut().for_each(|c| *c *= scale);
    counts
}
