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

use super::diffusion_steps::sample_once;
use crate::config::DiffusionConfig;
use crate::diffusion::analysis::{check_times, log_log_slope, support_measures};
use crate::diffusion::backward;
use crate::diffusion::sampler::{log_times, Start};
use crate::diffusion::sampler::{BatchScore, ExactScore};
use crate::diffusion::theory::{li_yau_margin, lp_growth_log_bound, Check, TheoryReport};
use crate::error::{Error, Result};
use crate::io;
use crate::model::score::{self};
use rayon::prelude::*;
use std::path::Path;

pub fn check_theory(
    cfg: &DiffusionConfig,
    dir: &Path,
    quiet: bool,
    device: &crate::gpu::Device,
    mut user_score: Option<&mut dyn BatchScore>,
) -> Result<TheoryReport> {
    // the device as its GPU context, if any
    let gpu = device.gpu().map(|c| c.as_ref());
    if gpu.is_some() && user_score.is_some() {
        return Err(Error::Unsupported("a user's score is checked on the CPU: use the cpu backend".into()));
    }
    let process = cfg.process();
    let cloud = cfg.cloud()?;
    let support = cfg.support()?;
    let grid = cfg.grid()?;
    let eps = cfg.sampler.epsilon;
    let t_final = cfg.sampler.t_final;
    let times = check_times(cfg, &grid);
    let mut checks = Vec::new();

    // the grid checks solve in the box with walls: u(T) must fit in it
    // evaluated in parallel, summed in order: rayon's split (and so the rounding of a
    // parallel sum) changes from run to run
    let inside: f64 = (0..grid.len())
        .into_par_iter()
        .map(|i| score::log_density(&process, &cloud, t_final, &grid.cell_point(i)).exp())
        .collect::<Vec<f64>>()
        .iter()
        .sum::<f64>()
        * grid.cell_volume();
    checks.push(Check {
        name: "box: mass of u(T) outside the grid (walls change the PDE)".into(),
        measured: (1.0 - inside).abs(),
        criterion: "<= 1e-6".into(),
        pass: (1.0 - inside).abs() <= 1e-6,
    });

    let mut exact = ExactScore { process, cloud: &cloud };
    let margin = match user_score.as_deref_mut() {
        Some(score) => li_yau_margin(&process, cloud.dim, &grid, &times, score)?,
        None => li_yau_margin(&process, cloud.dim, &grid, &times, &mut exact)?,
    };
    checks.push(Check {
        name: "Li–Yau: min (div s + d/σ²) σ²/d".into(),
        measured: margin,
        criterion: ">= -1e-6".into(),
        pass: margin >= -1e-6,
    });

    if !quiet {
        log::info!(
            "backward Fokker–Planck on {}^{} cells over {} check times …",
            grid.cells,
            grid.dim,
            times.len()
        );
    }
    // ρ from the Gaussian start, and ρ̃ from u(T): the solution there is u(t) for every ε,
    // so what the grid makes of it is the scheme's error (both share the velocities)
    let starts = vec![
        backward::start_density(&process, &cloud, &grid, Start::Gaussian, t_final),
        backward::start_density(&process, &cloud, &grid, Start::Exact, t_final),
    ];
    let mut bar = crate::run::progress::Progress::new(quiet);
    let stops = times.len() - 1;
    let mut report = |k: usize, t: f64| {
        bar.report(k as f64 / stops as f64, || format!("t = {t:.4e}  check time {k} of {stops}"))
    };
    let (solved, backward_steps) = match gpu {
        None if user_score.is_some() => {
            let score: Box<dyn BatchScore> = match user_score.as_deref_mut() {
                Some(score) => Box::new(score),
                None => Box::new(exact),
            };
            let mut mover =
                backward::CpuBackward::with_score(&process, score, &grid, eps, cfg.check.flux, starts);
            super::diffusion_steps::backward_solve(&mut mover, cfg.check.safety, &times, &mut report)?
        }
        Some(ctx) => {
            let mut mover =
                backward::DeviceBackward::new(ctx, &process, &cloud, &grid, eps, cfg.check.flux, &starts)?;
            super::diffusion_steps::backward_solve(&mut mover, cfg.check.safety, &times, &mut report)?
        }
        None => {
            let mut mover = backward::CpuBackward::new(&process, &cloud, &grid, eps, cfg.check.flux, starts);
            super::diffusion_steps::backward_solve(&mut mover, cfg.check.safety, &times, &mut report)?
        }
    };
    bar.finish();
    let (rhos, from_exact): (Vec<Vec<f64>>, Vec<Vec<f64>>) =
        solved.into_iter().map(|mut at| (at.remove(0), at.remove(0))).unzip();
    let exact: Vec<Vec<f64>> =
        times.iter().map(|&t| backward::exact_on_grid(&process, &cloud, &grid, t)).collect();
    let kl_to_exact = |rhos: &[Vec<f64>]| -> Vec<f64> {
        rhos.iter().zip(&exact).map(|(rho, u)| backward::kl(rho, u, &grid)).collect()
    };
    let kl = kl_to_exact(&rhos);
    let kl_floor = kl_to_exact(&from_exact);
    let ratio = |p: Option<f64>| -> Vec<f64> {
        let base = backward::norm(&rhos[0], &grid, p);
        rhos.iter().map(|r| backward::norm(r, &grid, p) / base).collect()
    };
    let (norm2_ratio, norm_inf_ratio) = (ratio(Some(2.0)), ratio(None));
    for (label, ratios, inv_p) in [("2", &norm2_ratio, 0.5), ("∞", &norm_inf_ratio, 0.0)] {
        let margin = times
            .iter()
            .zip(ratios.iter())
            .skip(1)
            .map(|(&t, &r)| lp_growth_log_bound(&process, eps, cloud.dim, inv_p, t_final, t) - r.ln())
            .fold(f64::INFINITY, f64::min);
        checks.push(Check {
            name: format!("L^{label} growth: min ln(bound) − ln(‖ρ(t)‖/‖ρ(T)‖)"),
            measured: margin,
            criterion: ">= -0.01".into(),
            pass: margin >= -0.01,
        });
    }
    let kl0 = kl[0].max(1e-300);
    let rise =
        (1..kl.len()).map(|k| (kl[k] - kl[k - 1] - kl_floor[k]) / kl0).fold(f64::NEG_INFINITY, f64::max);
    checks.push(Check {
        name: "KL(ρ‖u) non-increasing as t decreases: max (rise − scheme error) / KL(T)".into(),
        measured: rise,
        criterion: "<= 1e-2".into(),
        pass: rise <= 1e-2,
    });
    let resolution = kl_floor.iter().fold(0.0, |a: f64, &e| a.max(e)) / kl0;
    checks.push(Check {
        name: "KL scheme error: max KL(grid solution from u(T) ‖ u) / KL(T) (reported)".into(),
        measured: resolution,
        criterion: "reported (near 1: the KL check is inconclusive)".into(),
        pass: true,
    });
    if eps == 0.0 {
        let drift = kl.iter().map(|k| (k - kl[0]).abs() / kl0).fold(0.0, f64::max);
        checks.push(Check {
            name: "KL constant for ε = 0: max |KL(t) − KL(T)| / KL(T) (reported)".into(),
            measured: drift,
            criterion: "reported (scheme: first order in h)".into(),
            pass: true,
        });
    }

    let t_min = cfg.t_mins().into_iter().fold(f64::INFINITY, f64::min);
    let t_mins = cfg.check.concentration_t_mins.clone().unwrap_or_else(|| log_times(0.1 * t_final, t_min, 5));
    let mut rms = Vec::new();
    for &t in &t_mins {
        let mut settings = crate::diffusion::sampler::SamplerSettings::from_config(cfg, t);
        settings.samples = cfg.check.concentration_samples;
        settings.trajectories = 0;
        let sampled =
            sample_once(&process, &cloud, &settings, device, user_score.as_deref_mut(), &mut |step, _| {
                super::interrupt::check(|| format!("while sampling, at step {step}"))
            })?;
        rms.push(support_measures(&process, &cloud, &support, t, &sampled.samples).2);
    }
    if let Some(slope) = log_log_slope(&t_mins, &rms) {
        checks.push(Check {
            name: "concentration: slope of ln √E d(X,K)² against ln t_min".into(),
            measured: slope,
            criterion: "within 0.1 of 0.5".into(),
            pass: (slope - 0.5).abs() <= 0.1,
        });
    }
    let report = TheoryReport {
        name: cfg.name.clone(),
        score: if user_score.is_some() { "user" } else { "exact" }.to_string(),
        checks,
        times,
        kl,
        kl_floor,
        norm2_ratio,
        norm_inf_ratio,
        backward_steps,
        concentration_t_mins: t_mins,
        concentration_rms: rms,
    };
    super::inputs::write_diffusion_config(dir, cfg)?;
    io::write_json(&dir.join("check.json"), &report)?;
    if cfg.output.dataset {
        let device = device.name();
        super::score_dataset::write_check(
            dir,
            &cfg.to_toml_string(),
            &grid,
            &device,
            &process,
            &cloud,
            &report,
        )?;
    }
    Ok(report)
}
