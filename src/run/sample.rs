//! `fpgen sample`: the reverse samplers of a score-based diffusion config, with their
//! outputs and the measures of where the samples went.
//!
//! <dir>/data.npy (the cloud, n × d), for each stopping time k (sampler.t_min in the given
//! order) samples_<k>.npy (N × d) and samples_<k>.png, with sampler.trajectories > 0
//! trajectories_<k>.npy ((K + 1) × n × d) and trajectories_<k>.png, in 1D profiles.csv,
//! log_density.png and score.png (log u and s against x at the check times), summary.json.

use super::diffusion_steps::sample_once;
use crate::config::DiffusionConfig;
use crate::diffusion::analysis::*;
use crate::diffusion::sampler::{BatchScore, Sampled};
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::io::RunDir;
use crate::io::{self, frames, plot};
use crate::model::score::{self, PointCloud};
use crate::run::progress::Progress;
use crate::run::score_dataset::SampleDataset;
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

#[derive(Debug, Serialize)]
pub struct SampleSummary {
    pub name: String,
    /// "cpu" (f64) or the GPU adapter's name (f32).
    pub device: String,
    pub dim: usize,
    pub data_points: usize,
    pub epsilon: f64,
    pub stepper: crate::diffusion::sampler::SampleMethod,
    pub start: crate::diffusion::sampler::Start,
    pub t_final: f64,
    pub samples: usize,
    /// "exact": the data's own score; "user": a score given by the caller (Python).
    pub score: String,
    pub stops: Vec<StopReport>,
    /// Log–log slope of the RMS distance to K against t_min (expected ½), with two or more
    /// stopping times.
    pub concentration_slope: Option<f64>,
    pub outputs: Vec<String>,
}

/// The samples as an image: a log-scaled 2D histogram, or the 1D histogram's profile.
fn samples_image(cfg: &DiffusionConfig, grid: &Grid, samples: &[f64]) -> image::RgbImage {
    if grid.dim == 2 {
        return frames::scatter_figure(samples, grid, &cfg.output, &format!("{}: samples", cfg.name));
    }
    let hist = crate::reverse::particles::histogram(grid, samples, 1.0);
    let style = frames::FrameStyle::covering(&cfg.output, [hist.as_slice()]);
    frames::figure(grid, &hist, &style, &format!("{}: histogram of the samples", cfg.name))
}

/// The sample paths in their axes: in the plane over the data (and the γ-Voronoi cores),
/// or, in 1D, x against −ln t.
fn trajectories_image(
    cloud: &PointCloud,
    grid: &Grid,
    sampled: &Sampled,
    count: usize,
    voronoi_gamma: Option<f64>,
    title: &str,
) -> image::RgbImage {
    let (image, mut labels) = trajectories_plot(cloud, grid, sampled, count, voronoi_gamma);
    labels.title = title.to_string();
    io::figure::framed(&image, None, &labels).unwrap_or_else(|why| {
        log::warn!("{why}; the paths are drawn without axes");
        image
    })
}

fn trajectories_plot(
    cloud: &PointCloud,
    grid: &Grid,
    sampled: &Sampled,
    count: usize,
    voronoi_gamma: Option<f64>,
) -> (image::RgbImage, io::figure::Labels) {
    let labels = io::figure::Labels::new("", grid.half_width, "");
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
        return (canvas.into_interior(), labels);
    }
    let (t0, t1) = (sampled.times[0].ln(), sampled.times[steps - 1].ln());
    let mut canvas = plot::Canvas::new(768, 512, (-t0, -t1), (-l, l));
    for i in 0..count {
        let points: Vec<(f64, f64)> = path(i).zip(&sampled.times).map(|(x, t)| (-t.ln(), x[0])).collect();
        canvas.polyline(&points, plot::PALETTE[i % plot::PALETTE.len()]);
    }
    let mut labels = labels;
    labels.horizontal = Some(("-ln t".into(), -t0, -t1));
    labels.vertical = Some(("x".into(), -l, l));
    (canvas.into_interior(), labels)
}

crate::csv_row! {
    /// One row of profiles.csv: log u and the score at (t, x).
    #[derive(Clone, Copy, Debug)]
    pub struct ProfileRow {
        pub t: f64,
        pub x: f64,
        pub log_u: f64,
        pub score: f64,
    }
}

/// 1D: log u and s against x at the check times (CSV and two line plots).
fn write_profiles(cfg: &DiffusionConfig, cloud: &PointCloud, grid: &Grid, dir: &Path) -> Result<Vec<String>> {
    let process = cfg.process();
    let times = check_times(cfg, grid);
    let xs = grid.centres();
    // one row per (t, x): the times are values, not column names
    let mut csv = io::CsvWriter::for_rows::<ProfileRow>(&dir.join("profiles.csv"))?;
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
    for (&t, (logs, scores)) in times.iter().zip(&columns) {
        for ((&x, &log_u), &score) in xs.iter().zip(logs).zip(scores) {
            csv.write(&ProfileRow { t, x, log_u, score })?;
        }
    }
    let top = columns.iter().flat_map(|c| c.0.iter()).copied().fold(f64::NEG_INFINITY, f64::max);
    // the steep small-t scores would flatten the others: the range is the middle time's
    // (the steeper curves are marked where they leave it)
    let middle = &columns[columns.len() / 2].1;
    let bound = 1.2 * middle.iter().map(|v| v.abs()).fold(0.0, f64::max).max(1e-12);
    let names: Vec<String> = times.iter().map(|t| format!("t = {t:.3e}")).collect();
    let figure = |value: &str, score: bool, lo: f64, hi: f64| {
        let pick = |c: &(Vec<f64>, Vec<f64>)| -> Vec<f64> {
            if score {
                c.1.clone()
            } else {
                c.0.clone()
            }
        };
        let picked: Vec<Vec<f64>> = columns.iter().map(pick).collect();
        let curves: Vec<(String, &[f64])> =
            names.iter().cloned().zip(picked.iter().map(Vec::as_slice)).collect();
        let labels = io::figure::Labels::new(format!("{}: {value}", cfg.name), grid.half_width, value);
        io::figure::lines(&xs, &curves, &frames::Scale { lo, hi, log: false }, &labels)
            .map_err(|message| Error::Data { path: dir.to_path_buf(), message })
    };
    io::save_png(&dir.join("log_density.png"), &figure("log u", false, top - 30.0, top + 1.0)?)?;
    io::save_png(&dir.join("score.png"), &figure("score", true, -bound, bound)?)?;
    Ok(vec!["profiles.csv".into(), "log_density.png".into(), "score.png".into()])
}

pub fn sample_run(
    cfg: &DiffusionConfig,
    run_dir: &mut RunDir,
    quiet: bool,
    device: &crate::gpu::Device,
    mut user_score: Option<&mut dyn BatchScore>,
) -> Result<SampleSummary> {
    let score_name = if user_score.is_some() { "user" } else { "exact" };
    let dir = run_dir.path().to_path_buf();
    let dir = dir.as_path();
    let process = cfg.process();
    let cloud = cfg.cloud()?;
    let support = cfg.support()?;
    let grid = cfg.grid()?;
    let d = cloud.dim;
    run_dir.mark_started();
    super::inputs::write_diffusion_config(dir, cfg)?;
    // .npy files beside the dataset only on request (`output.snapshots`)
    let npy = cfg.output.snapshots;
    let mut outputs = vec!["config.toml".to_string()];
    if npy {
        io::write_positions(&dir.join("data.npy"), &cloud.points, d)?;
        outputs.push("data.npy".into());
    }
    if d == 1 {
        outputs.extend(write_profiles(cfg, &cloud, &grid, dir)?);
    }
    let device_name = device.name();
    let mut dataset = match cfg.output.dataset {
        true => {
            let first = crate::diffusion::sampler::SamplerSettings::from_config(
                cfg,
                cfg.t_mins().first().copied().unwrap_or(cfg.sampler.t_final),
            );
            let traced = first.trajectories.min(first.samples);
            let times = crate::diffusion::analysis::check_times(cfg, &grid);
            let toml = cfg.to_toml_string();
            Some(SampleDataset::create(
                dir,
                &toml,
                &cfg.name,
                &grid,
                &device_name,
                &process,
                &cloud,
                &times,
                first.samples,
                traced,
                first.steps,
            )?)
        }
        false => None,
    };
    let mut stops = Vec::new();
    for (k, t_min) in cfg.t_mins().into_iter().enumerate() {
        if super::interrupt::requested() {
            return Err(Error::Interrupted(format!(
                "before stopping time {k} (t_min = {t_min:e}); the samples of the earlier ones are written"
            )));
        }
        let settings = crate::diffusion::sampler::SamplerSettings::from_config(cfg, t_min);
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
        let sampled = sample_once(
            &process,
            &cloud,
            &settings,
            device,
            user_score.as_deref_mut(),
            &mut |step, t| {
                bar.report(step as f64 / steps as f64, || format!("t = {t:.4e}  step {step} of {steps}"));
                super::interrupt::check(|| {
                    format!("at step {step} of stopping time {k} (t_min = {t_min:e}); the samples of the earlier ones are written")
                })
            },
        )?;
        let seconds = clock.elapsed().as_secs_f64();
        bar.finish();
        if let Some(bad) = sampled.samples.iter().position(|x| !x.is_finite()) {
            return Err(Error::Numerics(format!(
                "sample {} is not finite at t_min = {t_min:e}: the score or the sampler step overflowed (sampler.t_final = {}; with linear OU, λ·T beyond a few hundred leaves no signal of the data)",
                bad / d,
                cfg.sampler.t_final
            )));
        }
        let (tube_fraction, memorised_fraction, rms) =
            support_measures(&process, &cloud, &support, t_min, &sampled.samples);
        let name = format!("samples_{k}");
        if npy {
            io::write_positions(&dir.join(format!("{name}.npy")), &sampled.samples, d)?;
            outputs.push(format!("{name}.npy"));
        }
        io::save_png(&dir.join(format!("{name}.png")), &samples_image(cfg, &grid, &sampled.samples))?;
        outputs.push(format!("{name}.png"));
        let traced = settings.trajectories.min(settings.samples);
        if let Some(d) = &mut dataset {
            d.stop(t_min, &sampled.samples, &sampled.times, &sampled.trajectories)?;
        }
        if traced > 0 {
            if npy {
                let path = dir.join(format!("trajectories_{k}.npy"));
                let array = ndarray::Array3::from_shape_vec(
                    (sampled.times.len(), traced, d),
                    sampled.trajectories.clone(),
                )
                .map_err(|e| Error::Data { path: path.clone(), message: e.to_string() })?;
                io::write_npy(&path, &array)?;
                outputs.push(format!("trajectories_{k}.npy"));
            }
            io::save_png(
                &dir.join(format!("trajectories_{k}.png")),
                &trajectories_image(
                    &cloud,
                    &grid,
                    &sampled,
                    traced,
                    cfg.check.voronoi_gamma,
                    &format!("{}: sample paths to t_min = {t_min:e}", cfg.name),
                ),
            )?;
            outputs.push(format!("trajectories_{k}.png"));
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
    if let Some(d) = &mut dataset {
        d.finish(&stops)?;
        outputs.push(super::dataset::FILE.into());
    }
    let t: Vec<f64> = stops.iter().map(|s| s.t_min).collect();
    let r: Vec<f64> = stops.iter().map(|s| s.rms_distance_to_support).collect();
    outputs.push("summary.json".into());
    let summary = SampleSummary {
        name: cfg.name.clone(),
        device: device_name,
        dim: d,
        data_points: cloud.len(),
        epsilon: cfg.sampler.epsilon,
        stepper: cfg.sampler.stepper,
        start: cfg.sampler.start,
        t_final: cfg.sampler.t_final,
        samples: cfg.sampler.samples,
        score: score_name.to_string(),
        stops,
        concentration_slope: log_log_slope(&t, &r),
        outputs,
    };
    run_dir.add_summary(None, &summary)?;
    run_dir.write_summary()?;
    Ok(summary)
}
