//! `fpgen sample`: the reverse samplers of a score-based diffusion config, with their
//! outputs and the measures of where the samples went.
//!
//! <dir>/data.npy (the cloud, n × d), for each stopping time k (sampler.t_min in the given
//! order) samples_<k>.npy (N × d) and samples_<k>.png, with sampler.trajectories > 0
//! trajectories_<k>.npy ((K + 1) × n × d) and trajectories_<k>.png, in 1D profiles.csv,
//! log_density.png and score.png (log u and s against x at the check times), summary.json.

use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::sampler::{self, CpuSampler, DeviceSampler, Sampled, SamplerSettings};
use crate::config::DiffusionConfig;
use crate::error::{Error, Result};
use crate::gpu::GpuContext;
use crate::grid::Grid;
use crate::io::{self, frames, plot};
use crate::model::score::{self, LinearProcess, PointCloud};
use crate::reverse::pde::FaceFlux;
use crate::sim::progress::Progress;

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

#[derive(Debug, Serialize)]
pub struct SampleSummary {
    pub name: String,
    /// "cpu" (f64) or the GPU adapter's name (f32).
    pub device: String,
    pub dim: usize,
    pub data_points: usize,
    pub epsilon: f64,
    pub stepper: super::sampler::Stepper,
    pub start: super::sampler::Start,
    pub t_final: f64,
    pub samples: usize,
    pub stops: Vec<StopReport>,
    /// Log–log slope of the RMS distance to K against t_min (expected ½), with two or more
    /// stopping times.
    pub concentration_slope: Option<f64>,
    pub outputs: Vec<String>,
}

/// The run-directory helper makes folders that sample and check-theory runs do not use.
pub fn remove_unused_dirs(dir: &Path) {
    for sub in ["snapshots", "frames"] {
        let _ = std::fs::remove_dir(dir.join(sub));
    }
}

/// Run the sampler once from the config's start: on the device when one is given.
pub fn sample_once(
    process: &LinearProcess,
    cloud: &PointCloud,
    settings: &SamplerSettings,
    device: Option<&GpuContext>,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Sampled> {
    let start = sampler::start_positions(process, cloud, settings);
    match device {
        Some(ctx) => {
            let mut mover = DeviceSampler::new(ctx, cloud, &start, settings.seed)?;
            sampler::run(process, cloud.dim, settings, &mut mover, &start, progress)
        }
        None => {
            let mut mover = CpuSampler { cloud, positions: start.clone(), seed: settings.seed };
            sampler::run(process, cloud.dim, settings, &mut mover, &start, progress)
        }
    }
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
        .reduce(|| (0.0, 0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
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

fn write_points(path: &Path, x: &[f64], dim: usize) -> Result<()> {
    crate::particles::run::write_positions(path, x, dim)
}

fn save_png(path: &Path, image: &image::RgbImage) -> Result<()> {
    image
        .save(path)
        .map_err(|e| Error::Data { path: path.to_path_buf(), message: format!("cannot write PNG: {e}") })
}

/// The samples as an image: a log-scaled 2D histogram, or the 1D histogram's profile.
fn samples_image(cfg: &DiffusionConfig, grid: &Grid, samples: &[f64]) -> image::RgbImage {
    if grid.dim == 2 {
        return crate::particles::run::scatter_image(samples, grid, &cfg.output);
    }
    let hist = crate::reverse::particles::histogram(grid, samples, 1.0);
    let style = frames::FrameStyle::covering(&cfg.output, [hist.as_slice()]);
    frames::render(grid, &hist, &style)
}

/// Paths over the data: 2D in the plane; 1D as position against ln t (T on the left).
/// Index of the point whose γ-Voronoi core holds x, if any.
pub fn voronoi_core(cloud: &PointCloud, gamma: f64, x: &[f64]) -> Option<usize> {
    let r2 = |j: usize| cloud.point(j).iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
    let nearest = (0..cloud.len()).min_by(|&a, &b| r2(a).total_cmp(&r2(b)))?;
    let own = r2(nearest);
    (0..cloud.len()).all(|k| k == nearest || r2(k) - own >= gamma).then_some(nearest)
}

fn trajectories_image(
    cloud: &PointCloud,
    grid: &Grid,
    sampled: &Sampled,
    count: usize,
    voronoi_gamma: Option<f64>,
) -> image::RgbImage {
    let d = cloud.dim;
    let l = grid.half_width;
    let steps = sampled.times.len();
    let path = |i: usize| {
        (0..steps).map(move |k| &sampled.trajectories[(k * count + i) * d..(k * count + i + 1) * d])
    };
    if d == 2 {
        let mut canvas = plot::Canvas::new(640, 640, (-l, l), (-l, l));
        if let Some(gamma) = voronoi_gamma {
            canvas.shade(|x, y| {
                voronoi_core(cloud, gamma, &[x, y]).map(|j| {
                    let c = plot::PALETTE[j % plot::PALETTE.len()];
                    c.map(|v| (255 - (255 - v as u32) / 4) as u8)
                })
            });
        }
        let stride = (cloud.len() / 5000).max(1);
        for j in (0..cloud.len()).step_by(stride) {
            let y = cloud.point(j);
            canvas.dot(y[0], y[1], 1, [150, 150, 150]);
        }
        for i in 0..count {
            let points: Vec<(f64, f64)> = path(i).map(|x| (x[0], x[1])).collect();
            canvas.polyline(&points, plot::PALETTE[i % plot::PALETTE.len()]);
        }
        return canvas.into_image();
    }
    let (t0, t1) = (sampled.times[0].ln(), sampled.times[steps - 1].ln());
    let mut canvas = plot::Canvas::new(768, 512, (-t0, -t1), (-l, l));
    for i in 0..count {
        let points: Vec<(f64, f64)> = path(i).zip(&sampled.times).map(|(x, t)| (-t.ln(), x[0])).collect();
        canvas.polyline(&points, plot::PALETTE[i % plot::PALETTE.len()]);
    }
    canvas.into_image()
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

/// 1D: log u and s against x at the check times (CSV and two line plots).
fn write_profiles(cfg: &DiffusionConfig, cloud: &PointCloud, grid: &Grid, dir: &Path) -> Result<Vec<String>> {
    let process = cfg.process();
    let times = check_times(cfg, grid);
    let xs = grid.centres();
    let mut header = vec!["x".to_string()];
    for t in &times {
        header.push(format!("log_u_t{t}"));
        header.push(format!("score_t{t}"));
    }
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut csv = io::CsvWriter::create(&dir.join("profiles.csv"), &header_refs)?;
    let mut columns: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    for &t in &times {
        let logs: Vec<f64> = xs.iter().map(|&x| score::log_density(&process, cloud, t, &[x])).collect();
        let scores: Vec<f64> = xs
            .iter()
            .map(|&x| {
                let mut s = [0.0; score::MAX_DIM];
                score::score(&process, cloud, t, &[x], &mut s);
                s[0]
            })
            .collect();
        columns.push((logs, scores));
    }
    for (i, x) in xs.iter().enumerate() {
        let mut row = vec![*x];
        for (logs, scores) in &columns {
            row.push(logs[i]);
            row.push(scores[i]);
        }
        csv.row(&row)?;
    }
    let l = grid.half_width;
    let top = columns.iter().flat_map(|c| c.0.iter()).copied().fold(f64::NEG_INFINITY, f64::max);
    let mut log_canvas = plot::Canvas::new(768, 512, (-l, l), (top - 30.0, top + 1.0));
    // the steep small-t scores would flatten the others: the range is the middle time's
    let middle = &columns[columns.len() / 2].1;
    let bound = 1.2 * middle.iter().map(|v| v.abs()).fold(0.0, f64::max).max(1e-12);
    let mut score_canvas = plot::Canvas::new(768, 512, (-l, l), (-bound, bound));
    for (k, (logs, scores)) in columns.iter().enumerate() {
        let colour = plot::PALETTE[k % plot::PALETTE.len()];
        log_canvas.polyline(&xs.iter().copied().zip(logs.iter().copied()).collect::<Vec<_>>(), colour);
        score_canvas.polyline(&xs.iter().copied().zip(scores.iter().copied()).collect::<Vec<_>>(), colour);
    }
    save_png(&dir.join("log_density.png"), &log_canvas.into_image())?;
    save_png(&dir.join("score.png"), &score_canvas.into_image())?;
    Ok(vec!["profiles.csv".into(), "log_density.png".into(), "score.png".into()])
}

pub fn sample_run(
    cfg: &DiffusionConfig,
    dir: &Path,
    quiet: bool,
    device: Option<&GpuContext>,
) -> Result<SampleSummary> {
    let process = cfg.process();
    let cloud = cfg.cloud()?;
    let support = cfg.support()?;
    let grid = cfg.grid()?;
    let d = cloud.dim;
    remove_unused_dirs(dir);
    io::write_text(&dir.join("config.toml"), &cfg.to_toml_string())?;
    write_points(&dir.join("data.npy"), &cloud.points, d)?;
    let mut outputs = vec!["config.toml".to_string(), "data.npy".to_string()];
    if d == 1 {
        outputs.extend(write_profiles(cfg, &cloud, &grid, dir)?);
    }
    let mut stops = Vec::new();
    for (k, t_min) in cfg.t_mins().into_iter().enumerate() {
        let settings = cfg.sampler_settings(t_min);
        if !quiet {
            log::info!(
                "sampling to t_min = {t_min} ({} samples, {} steps)",
                settings.samples,
                settings.steps
            );
        }
        let mut bar = Progress::new(quiet);
        let clock = Instant::now();
        let steps = settings.steps;
        let sampled = sample_once(&process, &cloud, &settings, device, &mut |k, t| {
            bar.report(k as f64 / steps as f64, || format!("t = {t:.4e}  step {k} of {steps}"))
        })?;
        let seconds = clock.elapsed().as_secs_f64();
        bar.finish();
        let (tube_fraction, memorised_fraction, rms) =
            support_measures(&process, &cloud, &support, t_min, &sampled.samples);
        let name = format!("samples_{k}");
        write_points(&dir.join(format!("{name}.npy")), &sampled.samples, d)?;
        save_png(&dir.join(format!("{name}.png")), &samples_image(cfg, &grid, &sampled.samples))?;
        outputs.extend([format!("{name}.npy"), format!("{name}.png")]);
        let traced = settings.trajectories.min(settings.samples);
        if traced > 0 {
            let path = dir.join(format!("trajectories_{k}.npy"));
            let array = ndarray::Array3::from_shape_vec(
                (sampled.times.len(), traced, d),
                sampled.trajectories.clone(),
            )
            .map_err(|e| Error::Data { path: path.clone(), message: e.to_string() })?;
            ndarray_npy::write_npy(&path, &array).map_err(|e| Error::Data {
                path: path.clone(),
                message: format!("cannot write .npy: {e}"),
            })?;
            save_png(
                &dir.join(format!("trajectories_{k}.png")),
                &trajectories_image(&cloud, &grid, &sampled, traced, cfg.check.voronoi_gamma),
            )?;
            outputs.extend([format!("trajectories_{k}.npy"), format!("trajectories_{k}.png")]);
        }
        stops.push(StopReport {
            t_min,
            steps: settings.steps,
            seconds,
            tube_half_width: 1.96 * process.variance(t_min).sqrt(),
            tube_fraction,
            memorised_fraction,
            rms_distance_to_support: rms,
        });
    }
    let t: Vec<f64> = stops.iter().map(|s| s.t_min).collect();
    let r: Vec<f64> = stops.iter().map(|s| s.rms_distance_to_support).collect();
    outputs.push("summary.json".into());
    let summary = SampleSummary {
        name: cfg.name.clone(),
        device: device.map_or("cpu".to_string(), |c| c.summary.name.clone()),
        dim: d,
        data_points: cloud.len(),
        epsilon: cfg.sampler.epsilon,
        stepper: cfg.sampler.stepper,
        start: cfg.sampler.start,
        t_final: cfg.sampler.t_final,
        samples: cfg.sampler.samples,
        stops,
        concentration_slope: log_log_slope(&t, &r),
        outputs,
    };
    io::write_json(&dir.join("summary.json"), &summary)?;
    Ok(summary)
}
