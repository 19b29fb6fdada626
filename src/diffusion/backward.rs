//! The backward Fokker–Planck equation of the samplers on the grid (docs/MATH.md §4):
//!
//!   ∂τ ρ = ε D Δρ − ∇·(ρ b),   b = λ x + (1 + ε) D s(T − τ, x),
//!
//! (for the heat equation with D = 1: ∂τ ρ = εΔρ − (1 + ε)∇·(ρ s)) with the exact score of
//! the point cloud, on the finite-volume step of the reverse solver (`reverse::pde`:
//! upwind or Scharfetter–Gummel face fluxes, zero-flux walls, positive under its bound). The
//! score is costly, so b is frozen on sub-intervals log-spaced in t (at their geometric
//! midpoints) and the step is repeated under the positivity bound within each. Several
//! densities share the frozen velocities. On the CPU (`CpuBackward`, f64) or the device
//! (`DeviceBackward`, f32: the score kernel at the faces, `GpuReversePde` for the steps).

use super::sampler::{log_times, BatchScore, ExactScore, Start};
use crate::diffusion::gpu::GpuSampler;
use crate::error::{Error, Result};
use crate::gpu::GpuContext;
use crate::grid::Grid;
use crate::model::score::{self, LinearProcess, PointCloud};
use crate::model::ModelParams;
use crate::reverse::gpu_pde::GpuReversePde;
use crate::reverse::pde::{face_centres, outflow_bound, FaceFlux, ReversePde};

/// Sub-intervals of frozen velocity between two consecutive output times.
pub const REFRESH_PER_INTERVAL: usize = 24;

/// u(t) at the cell centres, normalised to mass 1 on the grid.
pub fn exact_on_grid(process: &LinearProcess, cloud: &PointCloud, grid: &Grid, t: f64) -> Vec<f64> {
    use rayon::prelude::*;
    let mut u: Vec<f64> = (0..grid.len())
        .into_par_iter()
        .map(|i| score::log_density(process, cloud, t, &grid.cell_point(i)).exp())
        .collect();
    normalise(&mut u, grid);
    u
}

fn normalise(f: &mut [f64], grid: &Grid) {
    let mass: f64 = f.iter().sum::<f64>() * grid.cell_volume();
    if mass > 0.0 {
        f.iter_mut().for_each(|v| *v /= mass);
    }
}

/// The starting density at T: u(T), or the Gaussian N(0, σ²(T) I) the samplers start from.
pub fn start_density(
    process: &LinearProcess,
    cloud: &PointCloud,
    grid: &Grid,
    start: Start,
    t_final: f64,
) -> Vec<f64> {
    match start {
        Start::Exact => exact_on_grid(process, cloud, grid, t_final),
        Start::Gaussian => {
            let var = process.variance(t_final);
            let mut f: Vec<f64> = (0..grid.len())
                .map(|i| (-grid.cell_point(i).iter().map(|x| x * x).sum::<f64>() / (2.0 * var)).exp())
                .collect();
            normalise(&mut f, grid);
            f
        }
    }
}

/// Where the densities of the backward equation live and step: the CPU twin (f64) or the
/// device (f32). Both freeze b at the faces from the posterior means of the cloud.
pub trait BackwardStepper {
    /// Freeze b(t, ·) at the faces for the next steps; returns the positivity bound of Δt.
    fn freeze(&mut self, t: f64) -> Result<f64>;
    /// `steps` explicit steps of Δt, every density.
    fn step_n(&mut self, steps: u64, dt: f64) -> Result<()>;
    /// The current densities.
    fn read(&mut self) -> Result<Vec<Vec<f64>>>;
}

/// b = λx + (1 + ε) D s along one axis at a face (own coordinate `x`), from the posterior
/// mean m there (heat coordinates): s = e^{λt} (m − e^{λt} x) / (2 t_h).
pub fn face_velocity(process: &LinearProcess, epsilon: f64, t: f64, x: f64, mean: f64) -> f64 {
    let (t_h, k) = (process.heat_time(t), process.scale(t));
    let score = k * (mean - k * x) / (2.0 * t_h);
    process.lambda * x + (1.0 + epsilon) * process.diffusion * score
}

/// The step's model: transport by the given velocities and diffusion εD only.
fn transport_only(process: &LinearProcess, epsilon: f64) -> (ModelParams, f64) {
    (ModelParams::bose(0.0, 0.0, 1.0, 0.0), epsilon * process.diffusion)
}

/// The face velocities in the layout of `face_centres` with the walls (faces 0 and N) at 0:
/// `velocity(face, axis)` for face index `face` of `[along, across].concat()`.
fn wall_velocities(grid: &Grid, velocity: impl Fn(usize, usize) -> f64) -> (Vec<f64>, Vec<f64>) {
    let (n, d) = (grid.cells, grid.dim);
    let rows = if d == 2 { n } else { 1 };
    let along: Vec<f64> = (0..rows * (n + 1))
        .map(|i| if i % (n + 1) == 0 || i % (n + 1) == n { 0.0 } else { velocity(i, d - 1) })
        .collect();
    let across: Vec<f64> = if d == 2 {
        (0..(n + 1) * n)
            .map(|i| if i / n == 0 || i / n == n { 0.0 } else { velocity(rows * (n + 1) + i, 0) })
            .collect()
    } else {
        Vec::new()
    };
    (along, across)
}

/// The CPU twin: `ReversePde` with velocities b = λx + (1 + ε) D s from a batch score at
/// the faces (the exact score of the cloud, or a user's; one batch per refresh) (f64).
pub struct CpuBackward<'a> {
    process: LinearProcess,
    score: Box<dyn BatchScore + 'a>,
    epsilon: f64,
    grid: Grid,
    /// Face centres (own coordinates) of `face_centres`, along rows then across.
    faces: Vec<f64>,
    scores: Vec<f64>,
    pde: ReversePde,
    densities: Vec<Vec<f64>>,
    next: Vec<f64>,
}

impl<'a> CpuBackward<'a> {
    /// With the exact score of `cloud`.
    pub fn new(
        process: &LinearProcess,
        cloud: &'a PointCloud,
        grid: &Grid,
        epsilon: f64,
        flux: FaceFlux,
        starts: Vec<Vec<f64>>,
    ) -> Self {
        let score = Box::new(ExactScore { process: *process, cloud });
        Self::with_score(process, score, grid, epsilon, flux, starts)
    }

    /// With `score` (own coordinates, the grid's dimension).
    pub fn with_score(
        process: &LinearProcess,
        score: Box<dyn BatchScore + 'a>,
        grid: &Grid,
        epsilon: f64,
        flux: FaceFlux,
        starts: Vec<Vec<f64>>,
    ) -> Self {
        let (model, eta) = transport_only(process, epsilon);
        let (along, across) = face_centres(grid);
        let faces = [along, across].concat();
        Self {
            process: *process,
            score,
            epsilon,
            grid: grid.clone(),
            scores: vec![0.0; faces.len()],
            faces,
            pde: ReversePde::new(grid, &model, eta, 0.0).with_flux(flux),
            densities: starts,
            next: vec![0.0; grid.len()],
        }
    }
}

impl BackwardStepper for CpuBackward<'_> {
    fn freeze(&mut self, t: f64) -> Result<f64> {
        self.score.evaluate(t, &self.faces, &mut self.scores)?;
        let (process, d) = (&self.process, self.grid.dim);
        let drift = (1.0 + self.epsilon) * process.diffusion;
        let (faces, scores) = (&self.faces, &self.scores);
        let (along, across) = wall_velocities(&self.grid, |face, axis| {
            let i = face * d + axis;
            process.lambda * faces[i] + drift * scores[i]
        });
        if let Some(bad) = along.iter().chain(&across).find(|v| !v.is_finite()) {
            return Err(Error::Numerics(format!(
                "a face velocity is {bad} at t = {t:e}: the score is not finite"
            )));
        }
        self.pde.set_face_velocities(&along, &across);
        Ok(self.pde.bound())
    }

    fn step_n(&mut self, steps: u64, dt: f64) -> Result<()> {
        for g in &mut self.densities {
            for _ in 0..steps {
                self.pde.step(g, dt, &mut self.next);
                std::mem::swap(g, &mut self.next);
            }
        }
        Ok(())
    }

    fn read(&mut self) -> Result<Vec<Vec<f64>>> {
        Ok(self.densities.clone())
    }
}

/// On the device: the faces' posterior means from the score kernel (`GpuSampler`, the faces
/// as its samples), velocities on the host, steps in `GpuReversePde` (f32).
pub struct DeviceBackward<'a> {
    ctx: &'a GpuContext,
    process: LinearProcess,
    epsilon: f64,
    eta: f64,
    flux: FaceFlux,
    grid: Grid,
    /// Face centres (own coordinates): along rows, then across rows.
    faces: Vec<f64>,
    sampler: GpuSampler,
    pdes: Vec<GpuReversePde>,
    means: Vec<f32>,
}

impl<'a> DeviceBackward<'a> {
    pub fn new(
        ctx: &'a GpuContext,
        process: &LinearProcess,
        cloud: &PointCloud,
        grid: &Grid,
        epsilon: f64,
        flux: FaceFlux,
        starts: &[Vec<f64>],
    ) -> Result<Self> {
        let (along, across) = face_centres(grid);
        let faces = [along, across].concat();
        let sampler = GpuSampler::new(ctx, cloud, &faces, 0)?;
        let (model, eta) = transport_only(process, epsilon);
        let pdes = starts
            .iter()
            .map(|g| {
                let mut pde = GpuReversePde::new(ctx, grid, &model, eta, 1.0)?;
                pde.set_flux(ctx, flux);
                pde.upload(ctx, &g.iter().map(|&v| v as f32).collect::<Vec<_>>());
                Ok(pde)
            })
            .collect::<Result<Vec<_>>>()?;
        let means = vec![0.0; faces.len() / grid.dim * 4];
        Ok(Self {
            ctx,
            process: *process,
            epsilon,
            eta,
            flux,
            grid: grid.clone(),
            faces,
            sampler,
            pdes,
            means,
        })
    }
}

impl BackwardStepper for DeviceBackward<'_> {
    fn freeze(&mut self, t: f64) -> Result<f64> {
        let d = self.grid.dim;
        let (t_h, k) = (self.process.heat_time(t), self.process.scale(t));
        let heat: Vec<f64> = self.faces.iter().map(|x| k * x).collect();
        self.sampler.set_positions(self.ctx, &heat);
        self.sampler.posterior(self.ctx, t_h);
        self.sampler.read_means(self.ctx, &mut self.means)?;
        let velocity = |face: usize, axis: usize| {
            face_velocity(
                &self.process,
                self.epsilon,
                t,
                self.faces[face * d + axis],
                self.means[face * 4 + axis] as f64,
            )
        };
        // boundary faces (k = 0 or N) carry no flux
        let (along, across) = wall_velocities(&self.grid, velocity);
        let (along32, across32): (Vec<f32>, Vec<f32>) =
            (along.iter().map(|&v| v as f32).collect(), across.iter().map(|&v| v as f32).collect());
        for pde in &self.pdes {
            pde.set_velocities(self.ctx, &along32, &across32);
        }
        Ok(outflow_bound(&self.grid, &along, &across, self.eta, self.flux))
    }

    fn step_n(&mut self, steps: u64, dt: f64) -> Result<()> {
        // bounded submissions: a command buffer holds one dispatch per step
        const PER_SUBMISSION: u64 = 4096;
        for pde in &mut self.pdes {
            let mut left = steps;
            while left > 0 {
                let now = left.min(PER_SUBMISSION);
                pde.step_n(self.ctx, now as u32, dt);
                left -= now;
            }
        }
        Ok(())
    }

    fn read(&mut self) -> Result<Vec<Vec<f64>>> {
        let mut out = Vec::with_capacity(self.pdes.len());
        let mut g = vec![0f32; self.grid.len()];
        for pde in &self.pdes {
            pde.read_g(self.ctx, &mut g)?;
            out.push(g.iter().map(|&v| v as f64).collect());
        }
        Ok(out)
    }
}

/// The backward solve as steps for a driving loop: the densities at each of `times`
/// (descending from T; `densities()[k][j]`: density j at times[k]) from the mover's starts
/// at times[0]. Each interval between check times is cut into `REFRESH_PER_INTERVAL`
/// log-spaced pieces; a step takes one piece (velocities frozen at its geometric middle,
/// equal sub-steps under safety × the positivity bound). Its time runs forward,
/// s = times[0] − t.
pub struct BackwardSolve<'m> {
    mover: &'m mut dyn BackwardStepper,
    safety: f64,
    t_start: f64,
    /// (from t, to t, the check time index reached at its end, if any).
    pieces: Vec<(f64, f64, Option<usize>)>,
    next: usize,
    out: Vec<Vec<Vec<f64>>>,
    steps: u64,
}

impl<'m> BackwardSolve<'m> {
    pub fn new(mover: &'m mut dyn BackwardStepper, safety: f64, times: &[f64]) -> Result<Self> {
        let mut pieces = Vec::new();
        for (k, pair) in times.windows(2).enumerate() {
            let sub = log_times(pair[0], pair[1], REFRESH_PER_INTERVAL);
            let last = sub.len() - 2;
            pieces
                .extend(sub.windows(2).enumerate().map(|(j, w)| (w[0], w[1], (j == last).then_some(k + 1))));
        }
        let out = vec![mover.read()?];
        Ok(Self { mover, safety, t_start: times[0], pieces, next: 0, out, steps: 0 })
    }

    /// s = times[0] − t of the state.
    pub fn time(&self) -> f64 {
        match self.next {
            0 => 0.0,
            n => self.t_start - self.pieces[n - 1].1,
        }
    }

    /// Take the next piece; the check time index reached, if the piece ends on one.
    pub fn step(&mut self) -> Result<Option<usize>> {
        let Some(&(from, to, reached)) = self.pieces.get(self.next) else { return Ok(None) };
        let bound = self.mover.freeze((from * to).sqrt())?;
        let span = from - to;
        let count = (span / (self.safety * bound)).ceil().max(1.0);
        if count > 1e9 {
            return Err(Error::Numerics(format!(
                "the backward Fokker–Planck step collapsed at t = {to:e} ({count:e} steps): use a coarser grid or a larger t"
            )));
        }
        self.mover.step_n(count as u64, span / count)?;
        self.steps += count as u64;
        self.next += 1;
        if reached.is_some() {
            self.out.push(self.mover.read()?);
        }
        Ok(reached)
    }

    /// Whether every piece is taken.
    pub fn done(&self) -> bool {
        self.next == self.pieces.len()
    }

    /// The densities at the check times reached, and the sub-steps taken.
    pub fn finish(self) -> (Vec<Vec<Vec<f64>>>, u64) {
        (self.out, self.steps)
    }
}

/// `BackwardSolve` on the CPU for one density, returning it at each of `times`.
#[allow(clippy::too_many_arguments)]
pub fn solve_cpu(
    process: &LinearProcess,
    cloud: &PointCloud,
    grid: &Grid,
    epsilon: f64,
    flux: FaceFlux,
    safety: f64,
    times: &[f64],
    rho: Vec<f64>,
) -> Result<Vec<Vec<f64>>> {
    let mut mover = CpuBackward::new(process, cloud, grid, epsilon, flux, vec![rho]);
    // a test reference: no interrupt, no progress (pipelines drive `BackwardSolve` on the
    // run layer's loop)
    let mut solve = BackwardSolve::new(&mut mover, safety, times)?;
    while !solve.done() {
        solve.step()?;
    }
    Ok(solve.finish().0.into_iter().map(|mut at| at.remove(0)).collect())
}

/// ‖f‖_p on the grid (p = ∞ for `None`).
pub fn norm(f: &[f64], grid: &Grid, p: Option<f64>) -> f64 {
    match p {
        None => f.iter().map(|v| v.abs()).fold(0.0, f64::max),
        Some(p) => (f.iter().map(|v| v.abs().powf(p)).sum::<f64>() * grid.cell_volume()).powf(1.0 / p),
    }
}

/// KL(ρ ‖ u) = ∫ ρ ln(ρ/u) on the grid (cells where ρ = 0 add nothing).
pub fn kl(rho: &[f64], u: &[f64], grid: &Grid) -> f64 {
    rho.iter()
        .zip(u)
        .filter(|(r, _)| **r > 0.0)
        .map(|(r, q)| r * (r / q.max(f64::MIN_POSITIVE)).ln())
        .sum::<f64>()
        * grid.cell_volume()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From ρ(T) = u(T) the backward equation carries u: ρ(t) stays close to u(t), keeps
    /// mass and stays positive. Upwind is first order in h (halving h halves the error:
    /// orders 0.95, 0.97); Scharfetter–Gummel is central where the cell Péclet number
    /// V h/(εD) is small, as it is here, so better than first order (measured 1.3, 1.6;
    /// asserted > 1.2) and at least ten times more accurate (measured 36–71×).
    #[test]
    fn backward_equation_carries_the_exact_density() {
        let process = LinearProcess { lambda: 0.0, diffusion: 1.0 };
        let cloud = PointCloud::new(1, vec![-2.0, 1.5], Some(&[0.6, 0.4])).unwrap();
        let mut upwind = Vec::new();
        for flux in [FaceFlux::Upwind, FaceFlux::ScharfetterGummel] {
            let mut errors = Vec::new();
            for cells in [200, 400, 800] {
                let grid = Grid::new(1, cells, 8.0).unwrap();
                let times = [1.0, 0.5, 0.2];
                let rho = exact_on_grid(&process, &cloud, &grid, 1.0);
                let out = solve_cpu(&process, &cloud, &grid, 0.5, flux, 0.9, &times, rho).unwrap();
                let last = out.last().unwrap();
                let u = exact_on_grid(&process, &cloud, &grid, 0.2);
                let l1: f64 =
                    last.iter().zip(&u).map(|(a, b)| (a - b).abs()).sum::<f64>() * grid.cell_volume();
                let mass: f64 = last.iter().sum::<f64>() * grid.cell_volume();
                assert!((mass - 1.0).abs() < 1e-12, "mass {mass}");
                assert!(last.iter().all(|v| *v >= 0.0));
                errors.push(l1);
            }
            let orders: Vec<f64> = errors.windows(2).map(|w| (w[0] / w[1]).log2()).collect();
            eprintln!("{flux:?}: L1 to u(0.2) {errors:?}, orders {orders:?}");
            assert!(errors[0] < 0.05, "{errors:?}");
            if flux == FaceFlux::Upwind {
                assert!(orders.iter().all(|&p| p > 0.8), "upwind: orders {orders:?}");
                upwind = errors;
            } else {
                assert!(orders.iter().all(|&p| p > 1.2), "SG: orders {orders:?}");
                assert!(errors.iter().zip(&upwind).all(|(e, u)| *e < 0.1 * u), "{errors:?} vs {upwind:?}");
            }
        }
    }
}
