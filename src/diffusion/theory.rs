//! `fpgen check-theory`: the statements of docs/MATH.md §4 that hold exactly for these scores,
//! evaluated numerically with their margins.
//!
//! - The box: the grid checks solve with walls, so u(T) must fit in the grid (mass outside
//!   ≤ 1e-6, by the midpoint rule).
//! - Li–Yau: div s ≥ −d/σ²(t) (−d/(2t) for the heat equation with D = 1); div s by central
//!   differences of the exact score (δ = 1e-4 σ) on up to 64 points per axis of the grid at
//!   the check times; margin (div s + d/σ²) σ²/d, pass when ≥ −1e-6.
//! - L^p growth: ‖ρ(t)‖_p ≤ (T/t)^{(1+ε)d(1−1/p)/2} ‖ρ(T)‖_p for p = 2, ∞ (heat equation;
//!   for linear OU its image in heat coordinates, `lp_growth_log_bound`), ρ the grid
//!   backward Fokker–Planck solution from the Gaussian N(0, σ²(T)); margin
//!   ln(bound) − ln(ratio), pass when ≥ −0.01 (the grid's discretisation).
//! - KL(ρ(t) ‖ u(t)) non-increasing as t decreases: largest increase between consecutive
//!   check times, less the scheme's error e(t), relative to KL(T), pass when ≤ 1e-2. e(t) is
//!   KL(ρ̃(t) ‖ u(t)) for the grid solution ρ̃ from u(T): exactly u(t) for every ε, so what
//!   the grid makes of it is discretisation error (≈ 0.4 (h/σ)² with the upwind flux,
//!   far less with Scharfetter–Gummel where εD is not small); max e / KL(T) is reported,
//!   and near 1 it says the check cannot resolve KL here. The check times stop where
//!   σ(t) = `run::resolved_sigma` cells unless `check.times` says otherwise. For ε = 0 the
//!   theory says constant; the drift is reported (the transport's numerical diffusion,
//!   upwind for ε = 0 whatever the flux, lowers it).
//! - Concentration: the log–log slope of √E d(X, K)² against t_min from the sampler,
//!   pass when within 0.1 of ½.

use crate::diffusion::sampler::BatchScore;
use crate::error::Result;
use crate::grid::Grid;
use crate::model::score::LinearProcess;
use rayon::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub name: String,
    pub measured: f64,
    pub criterion: String,
    pub pass: bool,
}

#[derive(Debug, Serialize)]
pub struct TheoryReport {
    pub name: String,
    /// "exact": the data's own score; "user": a score given by the caller (Python).
    pub score: String,
    pub checks: Vec<Check>,
    /// Check times (descending) and, at each, KL(ρ‖u) and the norm ratios to t = T.
    pub times: Vec<f64>,
    pub kl: Vec<f64>,
    /// KL(ρ̃(t)‖u(t)) for the grid solution ρ̃ from u(T) (exactly u(t)): the scheme's error.
    pub kl_floor: Vec<f64>,
    pub norm2_ratio: Vec<f64>,
    pub norm_inf_ratio: Vec<f64>,
    pub backward_steps: u64,
    pub concentration_t_mins: Vec<f64>,
    pub concentration_rms: Vec<f64>,
}

/// The smallest relative Li–Yau margin over the check points and times, div s by central
/// differences of `score` (one batch of all points ± δ eₐ per time).
pub fn li_yau_margin(
    process: &LinearProcess,
    dim: usize,
    grid: &Grid,
    times: &[f64],
    score: &mut dyn BatchScore,
) -> Result<f64> {
    let d = dim;
    let stride = grid.cells.div_ceil(64);
    let axis: Vec<f64> = grid.centres().into_iter().step_by(stride).collect();
    let points: Vec<Vec<f64>> = if d == 1 {
        axis.iter().map(|&x| vec![x]).collect()
    } else {
        axis.iter().flat_map(|&x| axis.iter().map(move |&y| vec![x, y])).collect()
    };
    let mut least = f64::INFINITY;
    for &t in times {
        let var = process.variance(t);
        let delta = 1e-4 * var.sqrt();
        // point i, axis a: up at 2(i d + a), down at 2(i d + a) + 1
        let mut probes = Vec::with_capacity(points.len() * 2 * d * d);
        for x in &points {
            for a in 0..d {
                for sign in [1.0, -1.0] {
                    let mut p = x.clone();
                    p[a] += sign * delta;
                    probes.extend(p);
                }
            }
        }
        let mut scores = vec![0.0; probes.len()];
        score.evaluate(t, &probes, &mut scores)?;
        let margin = (0..points.len())
            .into_par_iter()
            .map(|i| {
                let mut div = 0.0;
                for a in 0..d {
                    let up = &scores[(2 * (i * d + a)) * d..][..d];
                    let down = &scores[(2 * (i * d + a) + 1) * d..][..d];
                    div += (up[a] - down[a]) / (2.0 * delta);
                }
                (div + d as f64 / var) * var / d as f64
            })
            .reduce(|| f64::INFINITY, f64::min);
        least = least.min(margin);
    }
    Ok(least)
}

/// ln of the L^p growth bound on ‖ρ(t)‖_p / ‖ρ(T)‖_p (`inv_p` = 1/p) for the backward
/// solution. Heat equation (docs/MATH.md §4): (T/t)^{(1+ε)d(1−1/p)/2}. Linear OU maps onto it:
/// in heat coordinates y = e^{λt} x at heat time t_h the backward equation is the heat
/// case's and ρ(t, x) = e^{dλt} ρ_h(t_h, e^{λt} x), so ‖ρ(t)‖_p = e^{dλt(1−1/p)} ‖ρ_h(t_h)‖_p
/// and the bound is (T_h/t_h)^{(1+ε)d(1−1/p)/2} e^{−dλ(T−t)(1−1/p)}.
pub fn lp_growth_log_bound(
    process: &LinearProcess,
    epsilon: f64,
    dim: usize,
    inv_p: f64,
    t_final: f64,
    t: f64,
) -> f64 {
    let (d, q) = (dim as f64, 1.0 - inv_p);
    let heat_ratio = process.heat_time(t_final) / process.heat_time(t);
    0.5 * (1.0 + epsilon) * d * q * heat_ratio.ln() - d * process.lambda * (t_final - t) * q
}
