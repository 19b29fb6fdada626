//! The interacting particle system of docs/MATH.md §1 on the CPU: N_p particles of mass M/N_p,
//! dX = −λX(1 + β f̂(X)^γ) dt + √(2D) dW, with f̂ the cloud-in-cell density of the
//! particles themselves on the solver's grid (`deposit`), optionally smoothed, interpolated
//! back with the same weights; Euler–Maruyama or the drift-implicit step; reflecting walls
//! at ±L. Positions in f32 or f64; the increments come from the shared generator (`rng`),
//! counter (particle id, step, 0).

pub mod deposit;
pub mod gpu;
pub mod sample;

use rayon::prelude::*;

use crate::grid::Grid;
pub use crate::kinds::ParticleMethod;
use crate::model::ModelParams;
use crate::real::Real;
use crate::rng;
use deposit::CicGrid;

/// What the particle system needs besides the model and the grid.
#[derive(Clone, Debug)]
pub struct ParticleSettings {
    pub count: usize,
    pub seed: u64,
    pub dt: f64,
    pub stepper: ParticleMethod,
    pub smoothing_sweeps: u32,
}

/// Particles with their density estimate.
pub struct ParticleSystem<T> {
    pub grid: Grid,
    cic: CicGrid,
    params: ModelParams,
    settings: ParticleSettings,
    mass: f64,
    /// Positions, axis 0 first, interleaved (`dim` per particle).
    pub positions: Vec<T>,
    units: Vec<u64>,
    /// One integer grid per worker (made at the first deposit, reused).
    partials: Vec<Vec<u64>>,
    density: Vec<f64>,
    scratch: Vec<f64>,
    step: u32,
}

impl<T: Real> ParticleSystem<T> {
    /// Particles of total mass `mass` at `positions` (f64, interleaved).
    pub fn new(
        grid: &Grid,
        params: &ModelParams,
        settings: ParticleSettings,
        mass: f64,
        positions: &[f64],
    ) -> Self {
        Self {
            grid: grid.clone(),
            cic: CicGrid::new(grid),
            params: *params,
            mass,
            positions: positions.iter().map(|&x| T::from_f64(x)).collect(),
            units: vec![0; grid.len()],
            partials: Vec::new(),
            density: vec![0.0; grid.len()],
            scratch: vec![0.0; grid.len()],
            step: 0,
            settings,
        }
    }

    pub fn steps(&self) -> u32 {
        self.step
    }

    pub fn set_dt(&mut self, dt: f64) {
        self.settings.dt = dt;
    }

    /// Deposit the particles: the integer grid (exactly N_p × units in total).
    pub fn deposit(&mut self) -> &[u64] {
        let n_cells = self.grid.len();
        let d = self.grid.dim;
        let cic = self.cic;
        let count = self.positions.len() / d;
        let workers = rayon::current_num_threads().max(1);
        if self.partials.len() != workers {
            self.partials = vec![vec![0u64; n_cells]; workers];
        }
        let chunk = count.div_ceil(workers).max(1);
        let positions = &self.positions;
        // integer sums: the result does not depend on how the particles are split
        self.partials.par_iter_mut().enumerate().for_each(|(c, local)| {
            local.fill(0);
            for p in c * chunk..((c + 1) * chunk).min(count) {
                let pos = position_f32(positions, d, p);
                cic.deposit(cic.stencil(&pos[..d]), local);
            }
        });
        let partials = &self.partials;
        self.units.par_chunks_mut(4096).enumerate().for_each(|(b, out)| {
            let start = b * 4096;
            for (k, u) in out.iter_mut().enumerate() {
                *u = partials.iter().map(|g| g[start + k]).sum();
            }
        });
        &self.units
    }

    /// Mass of one unit: M / (N_p × units per particle).
    pub fn unit_mass(&self) -> f64 {
        let count = self.positions.len() / self.grid.dim;
        self.mass / (count as f64 * deposit::particle_units(self.grid.dim) as f64)
    }

    /// The density estimate f̂ on the grid: deposit, convert, smooth.
    pub fn estimate_density(&mut self) -> &[f64] {
        self.deposit();
        let scale = self.unit_mass() / self.grid.cell_volume();
        self.density.par_iter_mut().zip(&self.units).for_each(|(f, &u)| *f = u as f64 * scale);
        for _ in 0..self.settings.smoothing_sweeps {
            deposit::smooth(&mut self.density, &mut self.scratch, self.grid.dim, self.grid.cells);
        }
        &self.density
    }

    /// One step of every particle (the density is estimated first unless β = 0).
    pub fn step(&mut self) {
        let interacting = self.params.beta != 0.0;
        if interacting {
            self.estimate_density();
        }
        let d = self.grid.dim;
        let (p, s) = (&self.params, &self.settings);
        let dt = s.dt;
        let noise = (2.0 * p.diffusion * dt).sqrt();
        let physics = p.physics::<f64>();
        let l = self.grid.half_width;
        let (cic, density, seed, step) = (self.cic, &self.density, s.seed, self.step);
        let implicit = s.stepper == ParticleMethod::DriftImplicit;
        self.positions.par_chunks_mut(d).enumerate().for_each(|(id, x)| {
            let factor = if interacting {
                let pos = position_f32(x, d, 0);
                let f = cic.gather(cic.stencil(&pos[..d]), density);
                physics.drift_factor(f.max(0.0))
            } else {
                1.0
            };
            let z = rng::normals4(seed, id as u32, step, 0);
            for (a, xa) in x.iter_mut().enumerate() {
                let x0 = xa.as_f64();
                let kick = noise * z[a] as f64;
                let moved = if implicit {
                    (x0 + kick) / (1.0 + p.lambda * dt * factor)
                } else {
                    x0 - p.lambda * x0 * factor * dt + kick
                };
                *xa = T::from_f64(reflect(moved, l));
            }
        });
        self.step += 1;
    }
}

/// Particle `p`'s position in f32 (the deposition weights are computed from it on every
/// backend).
fn position_f32<T: Real>(positions: &[T], d: usize, p: usize) -> [f32; 2] {
    let mut out = [0.0f32; 2];
    for (a, o) in out.iter_mut().take(d).enumerate() {
        *o = positions[p * d + a].as_f64() as f32;
    }
    out
}

/// Mirror a coordinate back into [−L, L] (walls reflect; a jump of more than 2L is clamped).
pub fn reflect(x: f64, l: f64) -> f64 {
    let y = if x > l {
        2.0 * l - x
    } else if x < -l {
        -2.0 * l - x
    } else {
        x
    };
    y.clamp(-l, l)
}

/// The particle system on either backend: the CPU twin (`ParticleSystem`) or the device
/// (`gpu::OnDevice`).
/// The particle system on a resolved device (the feature's one factory): the GPU (f32)
/// when the device is a GPU, else the CPU in `precision`. Returns the stepper with the
/// names of its backend and precision.
pub fn create(
    grid: &Grid,
    params: &ModelParams,
    settings: ParticleSettings,
    precision: crate::kinds::Precision,
    mass: f64,
    positions: &[f64],
    device: &crate::gpu::Device,
) -> crate::error::Result<(Box<dyn ParticleStepper>, &'static str, &'static str)> {
    use crate::kinds::Precision;
    if let Some(ctx) = device.gpu_for_grid((grid.len() * 4) as u64, grid.dim)? {
        let particles = gpu::GpuParticles::new(ctx, grid, params, &settings, mass, positions)?;
        return Ok((Box::new(gpu::OnDevice::new(ctx.clone(), particles)), "gpu", "f32"));
    }
    Ok(match precision {
        Precision::F64 => {
            (Box::new(ParticleSystem::<f64>::new(grid, params, settings, mass, positions)), "cpu", "f64")
        }
        Precision::F32 => {
            (Box::new(ParticleSystem::<f32>::new(grid, params, settings, mass, positions)), "cpu", "f32")
        }
    })
}

pub trait ParticleStepper {
    fn step_n(&mut self, steps: u32) -> crate::error::Result<()>;
    fn set_dt(&mut self, dt: f64);
    fn positions(&mut self) -> crate::error::Result<Vec<f64>>;
    fn density(&mut self) -> crate::error::Result<Vec<f64>>;
    /// Put the particles back at `positions` (values of the stepper's precision) with the
    /// generator's step counter at `steps` (a checkpoint).
    fn restore(&mut self, positions: &[f64], steps: u32) -> crate::error::Result<()>;
}

impl<T: Real> ParticleStepper for ParticleSystem<T> {
    fn step_n(&mut self, steps: u32) -> crate::error::Result<()> {
        for _ in 0..steps {
            self.step();
        }
        Ok(())
    }
    fn set_dt(&mut self, dt: f64) {
        ParticleSystem::set_dt(self, dt);
    }
    fn positions(&mut self) -> crate::error::Result<Vec<f64>> {
        Ok(self.positions.iter().map(|x| x.as_f64()).collect())
    }
    fn density(&mut self) -> crate::error::Result<Vec<f64>> {
        Ok(self.estimate_density().to_vec())
    }
    fn restore(&mut self, positions: &[f64], steps: u32) -> crate::error::Result<()> {
        if positions.len() != self.positions.len() {
            return Err(crate::error::Error::Numerics(format!(
                "a checkpoint of {} coordinates for {} particles",
                positions.len(),
                self.positions.len() / self.grid.dim
            )));
        }
        for (x, &v) in self.positions.iter_mut().zip(positions) {
            *x = T::from_f64(v);
        }
        self.step = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::initial_density::InitialDensity;

    fn system(dim: usize, count: usize, beta: f64) -> ParticleSystem<f64> {
        let grid = Grid::new(dim, 41, 4.0).unwrap();
        let params = ModelParams::bose(1.0, beta, 2.0, 1.0);
        let centre = vec![0.5; dim];
        let init = InitialDensity::GaussianMixture {
            centres: vec![centre],
            std_devs: vec![0.7],
            weights: vec![1.0],
        };
        let x = sample::sample(&init, &grid, count, 7).unwrap();
        let settings = ParticleSettings {
            count,
            seed: 7,
            dt: 1e-2,
            stepper: ParticleMethod::DriftImplicit,
            smoothing_sweeps: 1,
        };
        ParticleSystem::new(&grid, &params, settings, 2.0, &x)
    }

    /// The integer grid holds exactly N_p × units; the density integrates to M.
    #[test]
    fn deposited_mass_is_exact() {
        for dim in [1, 2] {
            let mut s = system(dim, 12_345, 1.0);
            for _ in 0..3 {
                s.step();
            }
            let total: u64 = s.deposit().iter().sum();
            assert_eq!(total, 12_345 * deposit::particle_units(dim));
            let mass: f64 = s.estimate_density().iter().sum::<f64>() * s.grid.cell_volume();
            assert!((mass - 2.0).abs() < 1e-12, "{dim}D mass {mass}");
        }
    }

    #[test]
    fn reflection_stays_in_the_box() {
        assert_eq!(reflect(4.5, 4.0), 3.5);
        assert_eq!(reflect(-4.25, 4.0), -3.75);
        assert_eq!(reflect(20.0, 4.0), -4.0);
    }

    /// Positions in f32 and f64 deposit the same integer grid (the weights are computed
    /// from the f32 position in both).
    #[test]
    fn precision_does_not_change_the_initial_grid() {
        let a = system(2, 5000, 1.0);
        let grid = a.grid.clone();
        let x: Vec<f64> = a.positions.clone();
        let mut b32 = ParticleSystem::<f32>::new(&grid, &a.params, a.settings.clone(), 2.0, &x);
        let mut b64 = ParticleSystem::<f64>::new(&grid, &a.params, a.settings.clone(), 2.0, &x);
        assert_eq!(b32.deposit(), b64.deposit());
    }
}
