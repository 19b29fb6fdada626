//! Reverse SDE/ODE samplers with the exact score of a point cloud (docs/MATH.md §4).
//!
//! In heat coordinates (`model::score`: x_h = e^{λt} x, t_h(t), D = 1) the reverse process
//! with parameter ε ≥ 0 is dY = (1 + ε) s dτ + √(2ε) dW for linear OU as for the heat
//! equation (the change of variables maps one onto the other). Times are log-spaced from T
//! to t_min; a step t1 → t2 freezes the posterior mean m at (t1, X) and takes
//!
//!   exponential: X ← m + (t2/t1)^{(1+ε)/2} (X − m) + √(2 t2 (1 − (t2/t1)^ε)) ξ,
//!   Euler:       X ← X + (1 + ε)(m − X)(t1 − t2)/(2 t1) + √(2ε (t1 − t2)) ξ,
//!
//! (heat times), both of the form X ← m + a (X − m) + b ξ, ξ from the shared generator at
//! counter (sample, step, 0). For a single Dirac the exponential step is exact.

use rayon::prelude::*;

use crate::diffusion::gpu::GpuSampler;
use crate::error::Result;
use crate::gpu::GpuContext;
use crate::model::score::{self, LinearProcess, PointCloud};
use crate::rng;

pub use crate::kinds::{SampleMethod, SampleStart as Start};

#[derive(Clone, Debug, PartialEq)]
pub struct SamplerSettings {
    pub epsilon: f64,
    pub t_final: f64,
    pub t_min: f64,
    pub steps: usize,
    pub stepper: SampleMethod,
    pub start: Start,
    pub samples: usize,
    pub seed: u64,
    /// Record the paths of the first this many samples.
    pub trajectories: usize,
}

/// T = t_0 > t_1 > … > t_K = t_min, equally spaced in log t.
pub fn log_times(t_final: f64, t_min: f64, steps: usize) -> Vec<f64> {
    let ratio = (t_min / t_final).ln();
    (0..=steps)
        .map(|k| if k == steps { t_min } else { t_final * (ratio * k as f64 / steps as f64).exp() })
        .collect()
}

/// (a, b) of the step X ← m + a (X − m) + b ξ between heat times t1 > t2.
pub fn coefficients(stepper: SampleMethod, epsilon: f64, t1: f64, t2: f64) -> (f64, f64) {
    match stepper {
        SampleMethod::Exponential => {
            let r = t2 / t1;
            (r.powf(0.5 * (1.0 + epsilon)), (2.0 * t2 * (1.0 - r.powf(epsilon))).max(0.0).sqrt())
        }
        SampleMethod::Euler => {
            (1.0 - (1.0 + epsilon) * (t1 - t2) / (2.0 * t1), (2.0 * epsilon * (t1 - t2)).sqrt())
        }
    }
}

/// Starting positions in heat coordinates (count × dim): normals at counter (i, 0, 1), the
/// data point by the uniform at (i, 0, 2).
pub fn start_positions(process: &LinearProcess, cloud: &PointCloud, s: &SamplerSettings) -> Vec<f64> {
    let d = cloud.dim;
    let spread = (2.0 * process.heat_time(s.t_final)).sqrt();
    let mut cumulative = Vec::with_capacity(cloud.len());
    let mut total = 0.0;
    for lw in &cloud.log_weights {
        total += lw.exp();
        cumulative.push(total);
    }
    let mut out = vec![0.0; s.samples * d];
    out.par_chunks_mut(d).enumerate().for_each(|(i, x)| {
        let z = rng::normals4(s.seed, i as u32, 0, 1);
        let centre = match s.start {
            Start::Gaussian => None,
            Start::Exact => {
                let u = rng::open_unit(rng::uniform_u32x4(s.seed, i as u32, 0, 2)[0]) as f64 * total;
                Some(cumulative.partition_point(|&c| c < u).min(cloud.len() - 1))
            }
        };
        for a in 0..d {
            x[a] = centre.map_or(0.0, |j| cloud.point(j)[a]) + spread * z[a] as f64;
        }
    });
    out
}

/// How the samples move (heat coordinates): the CPU twin or the device.
pub trait SampleStepper {
    /// X ← m(t_h, X) + a (X − m) + b ξ(sample, step, 0), at the process's time t (heat
    /// time t_h).
    fn step(&mut self, t: f64, t_h: f64, a: f64, b: f64, step: u32) -> Result<()>;
    /// The first `out.len() / dim` samples.
    fn read(&mut self, out: &mut [f64]) -> Result<()>;
}

/// A score s(t, x) in the process's own coordinates, evaluated on a whole batch at once
/// (the exact score of a cloud, or a user's model such as a trained network).
pub trait BatchScore {
    /// `out[i·d..(i+1)·d] = s(t, x[i·d..(i+1)·d])` for the n × d points `x`.
    fn evaluate(&mut self, t: f64, x: &[f64], out: &mut [f64]) -> Result<()>;
}

impl<T: BatchScore + ?Sized> BatchScore for &mut T {
    fn evaluate(&mut self, t: f64, x: &[f64], out: &mut [f64]) -> Result<()> {
        (**self).evaluate(t, x, out)
    }
}

/// The exact score of a point cloud (`model::score::score`), in parallel over the points.
pub struct ExactScore<'a> {
    pub process: LinearProcess,
    pub cloud: &'a PointCloud,
}

impl BatchScore for ExactScore<'_> {
    fn evaluate(&mut self, t: f64, x: &[f64], out: &mut [f64]) -> Result<()> {
        let d = self.cloud.dim;
        out.par_chunks_mut(d)
            .zip(x.par_chunks(d))
            .for_each(|(s, x)| score::score(&self.process, self.cloud, t, x, s));
        Ok(())
    }
}

/// The CPU twin of the device's `posterior_step` kernel (f64): the posterior mean from the
/// score, m = X + (2 t_h / e^{λt}) s(t, X e^{−λt}), then the same update. The score is
/// evaluated once per step on the whole batch, so that a user's model (`BatchScore`) drives
/// the same arithmetic as the exact one.
pub struct CpuSampler<'a> {
    pub process: LinearProcess,
    pub dim: usize,
    pub score: Box<dyn BatchScore + 'a>,
    pub positions: Vec<f64>,
    pub seed: u64,
    own: Vec<f64>,
    scores: Vec<f64>,
}

impl<'a> CpuSampler<'a> {
    /// The sampler driven by `score`, from `positions` (heat coordinates, n × dim).
    pub fn with_score(
        process: &LinearProcess,
        dim: usize,
        score: Box<dyn BatchScore + 'a>,
        positions: Vec<f64>,
        seed: u64,
    ) -> Self {
        let n = positions.len();
        Self { process: *process, dim, score, positions, seed, own: vec![0.0; n], scores: vec![0.0; n] }
    }

    /// The sampler with the exact score of `cloud`.
    pub fn exact(process: &LinearProcess, cloud: &'a PointCloud, positions: Vec<f64>, seed: u64) -> Self {
        let score = Box::new(ExactScore { process: *process, cloud });
        Self::with_score(process, cloud.dim, score, positions, seed)
    }
}

impl SampleStepper for CpuSampler<'_> {
    fn step(&mut self, t: f64, t_h: f64, a: f64, b: f64, step: u32) -> Result<()> {
        let (seed, d) = (self.seed, self.dim);
        let k = self.process.scale(t);
        let to_mean = 2.0 * t_h / k;
        self.own.par_iter_mut().zip(&self.positions).for_each(|(o, x)| *o = x / k);
        self.score.evaluate(t, &self.own, &mut self.scores)?;
        if let Some(bad) = self.scores.iter().position(|v| !v.is_finite()) {
            return Err(crate::error::Error::Numerics(format!(
                "the score is {} at sample {}, t = {t:e}",
                self.scores[bad],
                bad / d
            )));
        }
        self.positions.par_chunks_mut(d).zip(self.scores.par_chunks(d)).enumerate().for_each(
            |(i, (x, s))| {
                let z = rng::normals4(seed, i as u32, step, 0);
                for k in 0..d {
                    let m = x[k] + to_mean * s[k];
                    x[k] = m + a * (x[k] - m) + b * z[k] as f64;
                }
            },
        );
        Ok(())
    }

    fn read(&mut self, out: &mut [f64]) -> Result<()> {
        out.copy_from_slice(&self.positions[..out.len()]);
        Ok(())
    }
}

/// The samples on the device (f32).
pub struct DeviceSampler<'a> {
    pub ctx: &'a GpuContext,
    pub sampler: GpuSampler,
}

impl<'a> DeviceSampler<'a> {
    pub fn new(ctx: &'a GpuContext, cloud: &PointCloud, positions: &[f64], seed: u64) -> Result<Self> {
        Ok(Self { ctx, sampler: GpuSampler::new(ctx, cloud, positions, seed)? })
    }

    /// As `new`, each thread of the score kernel serving `samples_per_thread` samples.
    pub fn with_samples_per_thread(
        ctx: &'a GpuContext,
        cloud: &PointCloud,
        positions: &[f64],
        seed: u64,
        samples_per_thread: u32,
    ) -> Result<Self> {
        let chunk = super::gpu::largest_chunk(&ctx.device.limits());
        let sampler = GpuSampler::with_options(ctx, cloud, positions, seed, chunk, samples_per_thread)?;
        Ok(Self { ctx, sampler })
    }
}

impl SampleStepper for DeviceSampler<'_> {
    fn step(&mut self, _t: f64, t_h: f64, a: f64, b: f64, step: u32) -> Result<()> {
        self.sampler.step(self.ctx, t_h, a, b, step);
        Ok(())
    }

    fn read(&mut self, out: &mut [f64]) -> Result<()> {
        let mut x32 = vec![0f32; out.len()];
        self.sampler.read_positions(self.ctx, &mut x32)?;
        out.iter_mut().zip(&x32).for_each(|(o, &v)| *o = v as f64);
        Ok(())
    }
}

/// Samples at t_min and the recorded paths, in the process's own coordinates.
pub struct Sampled {
    /// samples × dim.
    pub samples: Vec<f64>,
    /// The times t_0 = T, …, t_K = t_min.
    pub times: Vec<f64>,
    /// (K + 1) × trajectories × dim.
    pub trajectories: Vec<f64>,
}

/// The sampler as steps for a driving loop: from `start` (heat coordinates) with the
/// mover holding the same positions, one log-spaced step t_k → t_{k+1} at a time, the
/// traced paths recorded after each. Its time runs forward, s = T − t.
pub struct Sampler<'a> {
    process: &'a LinearProcess,
    settings: &'a SamplerSettings,
    mover: &'a mut dyn SampleStepper,
    dim: usize,
    times: Vec<f64>,
    traced: usize,
    trajectories: Vec<f64>,
    path: Vec<f64>,
    /// Steps taken.
    k: usize,
}

impl<'a> Sampler<'a> {
    pub fn new(
        process: &'a LinearProcess,
        dim: usize,
        settings: &'a SamplerSettings,
        mover: &'a mut dyn SampleStepper,
        start: &[f64],
    ) -> Self {
        let s = settings;
        let times = log_times(s.t_final, s.t_min, s.steps);
        let traced = s.trajectories.min(s.samples) * dim;
        let mut trajectories = Vec::with_capacity((s.steps + 1) * traced);
        to_own(process, times[0], &start[..traced], &mut trajectories);
        Self { process, settings, mover, dim, times, traced, trajectories, path: vec![0.0; traced], k: 0 }
    }

    /// s = T − t of the samples.
    pub fn time(&self) -> f64 {
        self.times[0] - self.times[self.k]
    }

    /// T − t_min, where the sampler stops.
    pub fn span(&self) -> f64 {
        self.times[0] - self.times[self.times.len() - 1]
    }

    pub fn done(&self) -> bool {
        self.k == self.settings.steps
    }

    /// One step; returns (steps done, time t reached).
    pub fn step(&mut self) -> Result<(usize, f64)> {
        let k = self.k;
        let (t1, t2) = (self.process.heat_time(self.times[k]), self.process.heat_time(self.times[k + 1]));
        let (a, b) = coefficients(self.settings.stepper, self.settings.epsilon, t1, t2);
        self.mover.step(self.times[k], t1, a, b, k as u32 + 1)?;
        if self.traced > 0 {
            self.mover.read(&mut self.path)?;
            to_own(self.process, self.times[k + 1], &self.path, &mut self.trajectories);
        }
        self.k += 1;
        Ok((self.k, self.times[self.k]))
    }

    /// The samples at t_min in the process's own coordinates, with the times and paths.
    pub fn finish(self) -> Result<Sampled> {
        let mut heat = vec![0.0; self.settings.samples * self.dim];
        self.mover.read(&mut heat)?;
        let mut samples = Vec::with_capacity(heat.len());
        to_own(self.process, self.settings.t_min, &heat, &mut samples);
        Ok(Sampled { samples, times: self.times, trajectories: self.trajectories })
    }
}

/// Heat coordinates at t into the process's own, appended to `out`.
fn to_own(process: &LinearProcess, t: f64, xh: &[f64], out: &mut Vec<f64>) {
    let k = 1.0 / process.scale(t);
    out.extend(xh.iter().map(|v| v * k));
}

impl SamplerSettings {
    /// The settings of a config's sampler for one stopping time.
    pub fn from_config(config: &crate::config::DiffusionConfig, t_min: f64) -> Self {
        let s = &config.sampler;
        SamplerSettings {
            epsilon: s.epsilon,
            t_final: s.t_final,
            t_min,
            steps: s.steps,
            stepper: s.stepper,
            start: s.start,
            samples: s.samples,
            seed: s.seed,
            trajectories: s.trajectories,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_times_run_from_t_to_t_min() {
        let t = log_times(1.0, 1e-3, 3);
        assert_eq!(t.len(), 4);
        assert_eq!((t[0], t[3]), (1.0, 1e-3));
        assert!((t[1] - 0.1).abs() < 1e-12 && (t[2] - 0.01).abs() < 1e-12);
    }

    /// The Euler coefficients are the exponential ones to first order in the step.
    #[test]
    fn euler_is_the_exponential_step_to_first_order() {
        for eps in [0.0, 0.2, 1.0] {
            let (t1, t2) = (1.0, 1.0 - 1e-4);
            let (ae, be) = coefficients(SampleMethod::Exponential, eps, t1, t2);
            let (au, bu) = coefficients(SampleMethod::Euler, eps, t1, t2);
            assert!((ae - au).abs() < 1e-7, "{eps}: {ae} vs {au}");
            assert!((be * be - bu * bu).abs() < 1e-7, "{eps}: {be} vs {bu}");
        }
    }
}
