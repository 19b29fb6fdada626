//! Where the samples of a reverse sampler went: their distance to the data's support,
//! memorisation (γ-Voronoi cores), log-log slopes, and the check times and grid
//! resolution of the theory checks.

use rayon::prelude::*;
use serde::Serialize;

use super::sampler;
use crate::config::DiffusionConfig;

use crate::grid::Grid;
use crate::kinds::FaceFlux;
use crate::model::score::{self, LinearProcess, PointCloud};

/// Where the samples went at one stopping time.
#[derive(Clone, Debug, Serialize)]
pub struct StopReport {
    pub t_min: f64,
    pub steps: usize,
    pub seconds: f64,
    /// 1.96 σ(t_min) (1.96 √(2 t_min) for the heat equation with D = 1).
    pub tube_half_width: f64,
    /// Share of the samples within the tube around the data's support K (the curve for
    /// curves, the cloud otherwise; scaled by e^{−λ t_min} for OU).
    pub tube_fraction: f64,
    /// Share of the samples whose posterior at t_min sits on one data point (max π ≥ 0.9):
    /// collapsed onto a training point.
    pub memorised_fraction: f64,
    /// √(E d(X, K)²).
    pub rms_distance_to_support: f64,
}

/// Tube share, memorised share and RMS distance of `samples` (own coordinates) at t.
pub fn support_measures(
    process: &LinearProcess,
    cloud: &PointCloud,
    support: &PointCloud,
    t: f64,
    samples: &[f64],
) -> (f64, f64, f64) {
    let d = cloud.dim;
    let (k, t_h) = (process.scale(t), process.heat_time(t));
    let half_width = 1.96 * process.variance(t).sqrt();
    let (inside, memorised, squares) = samples
        .par_chunks(d)
        .map(|x| {
            let xh: Vec<f64> = x.iter().map(|v| v * k).collect();
            let dist = support.distance_to(&xh) / k;
            let on_point = score::largest_weight(cloud, t_h, &xh) >= 0.9;
            (u32::from(dist <= half_width) as f64, u32::from(on_point) as f64, dist * dist)
        })
        // summed in order: a parallel sum's rounding follows rayon's run-to-run split
        .collect::<Vec<_>>()
        .into_iter()
        .fold((0.0, 0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
    let n = (samples.len() / d) as f64;
    (inside / n, memorised / n, (squares / n).sqrt())
}

/// Least-squares slope of ln y against ln x.
pub fn log_log_slope(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() < 2 {
        return None;
    }
    let (lx, ly): (Vec<f64>, Vec<f64>) = x.iter().zip(y).map(|(a, b)| (a.ln(), b.ln())).unzip();
    let n = lx.len() as f64;
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxy: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = lx.iter().map(|a| (a - mx) * (a - mx)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// Paths over the data: 2D in the plane; 1D as position against ln t (T on the left).
/// Index of the point whose γ-Voronoi core holds x, if any.
pub fn voronoi_core(cloud: &PointCloud, gamma: f64, x: &[f64]) -> Option<usize> {
    let r2 = |j: usize| cloud.point(j).iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
    let nearest = (0..cloud.len()).min_by(|&a, &b| r2(a).total_cmp(&r2(b)))?;
    let own = r2(nearest);
    (0..cloud.len()).all(|k| k == nearest || r2(k) - own >= gamma).then_some(nearest)
}

/// The check times: `check.times`, or 8 log-spaced from T down to the smallest t_min but no
/// lower than where σ(t) = `resolved_sigma` cells (a narrower Gaussian is not resolved by
/// the grid, and the grid quantities — KL, norms — would measure the discretisation).
pub fn check_times(cfg: &DiffusionConfig, grid: &Grid) -> Vec<f64> {
    cfg.check.times.clone().unwrap_or_else(|| {
        let t_min = cfg.t_mins().into_iter().fold(f64::INFINITY, f64::min);
        let resolved = time_of_variance(
            &cfg.process(),
            (resolved_sigma(cfg.check.flux) * grid.h()).powi(2),
            cfg.sampler.t_final,
        );
        sampler::log_times(cfg.sampler.t_final, t_min.max(resolved).min(0.5 * cfg.sampler.t_final), 7)
    })
}

/// The smallest σ(t), in cells, at which the backward solution still resolves KL: the
/// upwind flux's numerical diffusion |b| h/2 shows in KL below σ = 25 h; Scharfetter–Gummel
/// is central where the cell Péclet number is small and resolves it down to a few cells.
pub fn resolved_sigma(flux: FaceFlux) -> f64 {
    match flux {
        FaceFlux::Upwind => 25.0,
        FaceFlux::ScharfetterGummel => 4.0,
    }
}

/// The time t ≤ t_max at which σ²(t) = v (σ² increases with t), by bisection.
fn time_of_variance(process: &LinearProcess, v: f64, t_max: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, t_max);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if process.variance(mid) < v {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}
