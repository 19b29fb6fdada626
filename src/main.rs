//! The `fpgen` command line: parse, load the config, call the library, report.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use fpgen::config::diffusion::DiffusionConfig;
use fpgen::config::{Colormap, Config, Precision};
use fpgen::forward::{BackendKind, SharedDevice};
use fpgen::model::equilibrium;
use fpgen::model::ModelParams;
use fpgen::run::RunOptions;

#[derive(Parser)]
#[command(
    name = "fpgen",
    version,
    about = "PDE-based generative models: nonlinear Fokker-Planck solvers on CPU and GPU"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a forward simulation from a TOML config into <out>/<name>/.
    Run {
        config: PathBuf,
        #[command(flatten)]
        opts: RunArgs,
    },
    /// Run several configs in one process on one device: <out>/<name>/ each, plus
    /// <out>/batch.csv with every run's summary. Exits non-zero when a run failed.
    Batch {
        #[arg(required = true)]
        configs: Vec<PathBuf>,
        #[command(flatten)]
        opts: RunArgs,
    },
    /// Forward run to run.t_final, then the reverse-time solver ([reverse] section) back to
    /// t = 0: the reconstruction of f(0) (and generated samples) with its distances to f(0)
    /// in <out>/<name>/summary.json.
    Generate {
        config: PathBuf,
        #[command(flatten)]
        opts: ReverseArgs,
    },
    /// Density filtering: K forward + reverse cycles from the initial density;
    /// <out>/<name>/filter.csv (per-iteration metrics), iterate_<k>.npy, strip.png.
    Filter {
        config: PathBuf,
        #[arg(long, default_value_t = 3)]
        iterations: usize,
        #[command(flatten)]
        opts: ReverseArgs,
    },
    /// Score-based diffusion with point-cloud data ([data], [process], [sampler], [grid]):
    /// reverse SDE/ODE samples with the exact score into <out>/<name>/ (samples_<k>.npy per
    /// stopping time, trajectories, summary.json with the tube and memorisation shares).
    Sample {
        config: PathBuf,
        #[command(flatten)]
        opts: ReverseArgs,
    },
    /// The checks of the PDE theory of score-based diffusion (Li–Yau, L^p growth, KL
    /// monotonicity, concentration rate) on a diffusion config: a pass/fail table with the
    /// measured margins, <out>/<name>/check.json. Exits non-zero when a check fails.
    CheckTheory {
        config: PathBuf,
        #[command(flatten)]
        opts: ReverseArgs,
    },
    /// Draw the snapshots of a finished run again with new colour settings, one colour
    /// range for all (default: the range of every snapshot).
    Render {
        run_dir: PathBuf,
        #[arg(long, value_enum)]
        colormap: Option<Colormap>,
        /// log10 colour scale.
        #[arg(long, conflicts_with = "linear")]
        log_scale: bool,
        /// Linear colour scale.
        #[arg(long)]
        linear: bool,
        /// Decades below the maximum shown on a log scale.
        #[arg(long)]
        log_decades: Option<f64>,
        /// Fixed colour range.
        #[arg(long, num_args = 2, value_names = ["MIN", "MAX"], allow_negative_numbers = true)]
        range: Option<Vec<f64>>,
        /// Frames are upscaled to at least this many pixels per side.
        #[arg(long)]
        min_pixels: Option<u32>,
        /// Where the PNGs go (default: RUN_DIR/frames, replacing the run's frames).
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
    /// Critical mass M_c(γ, d) on ℝ^d and on the box, as JSON.
    CriticalMass {
        #[arg(long)]
        dim: usize,
        #[arg(long)]
        gamma: f64,
        #[arg(long, default_value_t = 1.0)]
        lambda: f64,
        #[arg(long, default_value_t = 1.0)]
        beta: f64,
        #[arg(long, default_value_t = 1.0)]
        diffusion: f64,
        /// L of the box [-L, L]^d (adds critical_mass_box).
        #[arg(long)]
        box_half_width: Option<f64>,
        /// A mass M: also print θ(M) (null when M ≥ M_c) and the condensate mass.
        #[arg(long)]
        mass: Option<f64>,
        /// Write the discrete steady state f_θ(x_i) of mass M on the grid of `--cells`
        /// cells per side over the box to this .npy file (needs --mass and
        /// --box-half-width); θ is fixed by the discrete mass and printed as grid_theta.
        #[arg(long, requires_all = ["mass", "box_half_width", "cells"])]
        profile: Option<PathBuf>,
        /// Cells per side of the grid for --profile.
        #[arg(long)]
        cells: Option<usize>,
    },
    /// Run a config on the GPU (f32) and the CPU (f32 and f64) and compare; exits
    /// non-zero above the printed tolerances.
    Verify {
        config: PathBuf,
        /// Override a config key, e.g. --set grid.cells=513 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Multiply every tolerance by this.
        #[arg(long, default_value_t = 1.0)]
        tol_scale: f64,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Particle-steps/s of the particle system (2D, γ = 2, drift-implicit), interacting
    /// (deposition on a CELLS² grid) and not (the OU step alone).
    BenchParticles {
        /// cpu (f32) or gpu (f32).
        #[arg(long, value_enum, default_value = "cpu")]
        backend: BenchBackend,
        #[arg(long, num_args = 1.., default_values_t = [100_000usize, 1_000_000, 10_000_000])]
        counts: Vec<usize>,
        #[arg(long, default_value_t = 1025)]
        cells: usize,
        #[arg(long, default_value_t = 5)]
        steps: u32,
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Print JSON rows instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Score pair evaluations/s (samples × data points × steps per second) of the reverse
    /// sampler: lemniscate data, heat equation, exponential steps.
    BenchScore {
        /// cpu (f64) or gpu (f32).
        #[arg(long, value_enum, default_value = "cpu")]
        backend: BenchBackend,
        /// Data points (one row per count and sample count).
        #[arg(long, num_args = 1.., default_values_t = [10_000usize])]
        data: Vec<usize>,
        #[arg(long, num_args = 1.., default_values_t = [100_000usize])]
        samples: Vec<usize>,
        #[arg(long, default_value_t = 5)]
        steps: usize,
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Print JSON rows instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Version and available backends.
    Info,
    /// Cell-updates/s on the peer problem (2D, γ = 2, upwind, explicit Euler).
    Bench {
        /// cpu (f64 and f32) or gpu (f32).
        #[arg(long, value_enum, default_value = "cpu")]
        backend: BenchBackend,
        /// Default: 257 513 1025 on the CPU, 1025 2049 4097 on the GPU.
        #[arg(long, num_args = 1..)]
        sizes: Vec<usize>,
        #[arg(long, value_enum, num_args = 1.., default_values = ["f64", "f32"])]
        precision: Vec<PrecisionArg>,
        #[arg(long, default_value_t = 200)]
        steps: u64,
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        #[arg(long)]
        threads: Option<usize>,
        /// Print JSON rows instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Options shared by `run` and `batch`.
#[derive(clap::Args)]
struct RunArgs {
    /// Parent folder of the run directories (and of batch.csv).
    #[arg(long, default_value = "out")]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "cpu")]
    backend: BackendKind,
    /// Override a config key (in every config), e.g. --set grid.cells=513 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Replace existing run directories.
    #[arg(long)]
    force: bool,
    /// No progress output.
    #[arg(long)]
    quiet: bool,
}

/// Options shared by `generate` and `filter`.
#[derive(clap::Args)]
struct ReverseArgs {
    /// Parent folder of the run directory.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// cpu (f64, every mode) or gpu (f32, reverse.mode = "log-score").
    #[arg(long, value_enum, default_value = "cpu")]
    backend: ReverseBackend,
    /// Override a config key, e.g. --set reverse.eta=0.5 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Replace an existing run directory.
    #[arg(long)]
    force: bool,
    /// No progress output.
    #[arg(long)]
    quiet: bool,
}

impl ReverseArgs {
    /// Load the config, open the device, prepare the run directory.
    fn prepare(
        &self,
        config: &std::path::Path,
    ) -> Result<(Config, Option<std::sync::Arc<fpgen::gpu::GpuContext>>, PathBuf)> {
        let cfg =
            Config::load(config, &self.overrides).with_context(|| format!("loading {}", config.display()))?;
        let device = reverse_device(self.backend, &cfg)?;
        let dir = fpgen::run::run_dir(&self.out, &cfg);
        fpgen::io::prepare_run_dir(&dir, self.force)?;
        Ok((cfg, device, dir))
    }
}

impl ReverseArgs {
    /// As `prepare`, for a score-based diffusion config.
    fn prepare_diffusion(
        &self,
        config: &std::path::Path,
    ) -> Result<(DiffusionConfig, Option<fpgen::gpu::GpuContext>, PathBuf)> {
        let cfg = DiffusionConfig::load(config, &self.overrides)
            .with_context(|| format!("loading {}", config.display()))?;
        let device = match self.backend {
            ReverseBackend::Cpu => None,
            ReverseBackend::Gpu => {
                // the sampler splits the samples into chunks the device can bind
                let bytes = 16 * cfg.sampler.samples.max(cfg.data.count) as u64;
                Some(fpgen::gpu::GpuContext::new_for_chunks(bytes).context("opening the GPU")?)
            }
        };
        let dir = self.out.join(&cfg.name);
        fpgen::io::prepare_run_dir(&dir, self.force)?;
        Ok((cfg, device, dir))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReverseBackend {
    Cpu,
    Gpu,
}

/// The GPU device for a reverse pipeline, or None for the CPU.
fn reverse_device(
    backend: ReverseBackend,
    cfg: &Config,
) -> Result<Option<std::sync::Arc<fpgen::gpu::GpuContext>>> {
    Ok(match backend {
        ReverseBackend::Cpu => None,
        ReverseBackend::Gpu => Some(SharedDevice::default().open_for(&cfg.grid()?)?),
    })
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BenchBackend {
    Cpu,
    Gpu,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PrecisionArg {
    F32,
    F64,
}

fn main() {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`fpgen info | head`) would
    // panic; die quietly instead, as command-line tools do.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to its default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_target(false)
        .init();
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run { config, opts: RunArgs { out, backend, overrides, force, quiet } } => {
            let cfg =
                Config::load(&config, &overrides).with_context(|| format!("loading {}", config.display()))?;
            let dir = fpgen::run::run_dir(&out, &cfg);
            fpgen::io::prepare_run_dir(&dir, force)?;
            let report = fpgen::run::run_config(
                &cfg,
                backend,
                &dir,
                &RunOptions { quiet },
                &mut SharedDevice::default(),
            )
            .with_context(|| format!("run `{}`", cfg.name))?;
            if let Some(summary) = &report.grid {
                log::info!("{}: {}", summary.status, summary.message);
                log::info!(
                    "mass {:.12e} -> {:.12e} (max rel drift {:.2e}), origin-cell mass {:.4e}, {:.1} Mcell-upd/s, {:.2} s",
                    summary.mass_initial,
                    summary.mass_final,
                    summary.max_rel_mass_drift,
                    summary.origin_cell_mass,
                    summary.cell_updates_per_second / 1e6,
                    summary.wall_seconds
                );
            }
            if let Some(p) = &report.particles {
                log::info!(
                    "particles: {} steps of {} particles on {} ({}), {:.3e} particle-steps/s, {:.2} s",
                    p.steps,
                    p.count,
                    p.backend,
                    p.precision,
                    p.particle_steps_per_second,
                    p.wall_seconds
                );
            }
        }
        Command::Batch { configs, opts: RunArgs { out, backend, overrides, force, quiet } } => {
            let opts = fpgen::run::batch::BatchOptions { out: out.clone(), backend, overrides, force, quiet };
            let runs = fpgen::run::batch::run(&configs, &opts).context("batch")?;
            let failed: Vec<String> = runs
                .iter()
                .filter_map(|r| r.outcome.as_ref().err().map(|e| format!("{}: {e}", r.config.display())))
                .collect();
            log::info!(
                "batch: {} of {} runs finished; summaries in {}",
                runs.len() - failed.len(),
                runs.len(),
                out.join("batch.csv").display()
            );
            anyhow::ensure!(
                failed.is_empty(),
                "batch: {} run(s) failed:\n  {}",
                failed.len(),
                failed.join("\n  ")
            );
        }
        Command::Generate { config, opts } => {
            let (cfg, device, dir) = opts.prepare(&config)?;
            let s = fpgen::run::reverse::generate_run(&cfg, &dir, opts.quiet, device.as_ref())
                .with_context(|| format!("generate `{}`", cfg.name))?;
            let (g, c) = (&s.generation, &s.generated_vs_initial);
            log::info!(
                "on {}: {} steps forward ({:.2} s), {} back ({:.2} s), mode {:?}, start {:?}, eta {}",
                s.device,
                g.forward_steps,
                g.forward_seconds,
                g.reverse_steps,
                g.reverse_seconds,
                s.mode,
                s.start,
                s.eta
            );
            log::info!(
                "generated vs f(0): relative L1 {:.3e}, KL {:.3e}, W1 {:.3e} ({}); mass drift {:.1e}; store {:.1} MiB in memory, {:.1} MiB on disk",
                c.rel_l1,
                c.kl,
                c.w1,
                c.w1_kind,
                (g.mass_generated - g.mass_initial) / g.mass_initial,
                g.store_memory_bytes as f64 / 1048576.0,
                g.store_disk_bytes as f64 / 1048576.0
            );
            if let Some(p) = &s.samples_vs_initial {
                log::info!(
                    "{} samples vs f(0): relative L1 {:.3e}, W1 {:.3e}",
                    g.particle_count,
                    p.rel_l1,
                    p.w1
                );
            }
            log::info!("outputs in {}", dir.display());
        }
        Command::Filter { config, iterations, opts } => {
            anyhow::ensure!(iterations >= 1, "--iterations must be at least 1 (got {iterations})");
            let (cfg, device, dir) = opts.prepare(&config)?;
            let s = fpgen::run::reverse::filter_run(&cfg, &dir, iterations, opts.quiet, device.as_ref())
                .with_context(|| format!("filter `{}`", cfg.name))?;
            println!(
                "{:>9} {:>12} {:>14} {:>12} {:>12} {:>12}",
                "iteration", "L1_to_input", "L1_to_previous", "TV", "entropy", "max"
            );
            for r in &s.iterations {
                println!(
                    "{:>9} {:>12.4e} {:>14.4e} {:>12.4e} {:>12.4e} {:>12.4e}",
                    r.iteration, r.l1_to_input, r.l1_to_previous, r.total_variation, r.entropy, r.max
                );
            }
            log::info!("outputs in {}", dir.display());
        }
        Command::Sample { config, opts } => {
            let (cfg, device, dir) = opts.prepare_diffusion(&config)?;
            let s = fpgen::run::sample::sample_run(&cfg, &dir, opts.quiet, device.as_ref())
                .with_context(|| format!("sample `{}`", cfg.name))?;
            log::info!(
                "on {}: {} samples, {} data points, epsilon {}",
                s.device,
                s.samples,
                s.data_points,
                s.epsilon
            );
            println!(
                "{:>10} {:>9} {:>12} {:>10} {:>10} {:>12}",
                "t_min", "seconds", "tube_width", "in_tube", "memorised", "rms_dist_K"
            );
            for r in &s.stops {
                println!(
                    "{:>10.3e} {:>9.2} {:>12.4e} {:>10.4} {:>10.4} {:>12.4e}",
                    r.t_min,
                    r.seconds,
                    r.tube_half_width,
                    r.tube_fraction,
                    r.memorised_fraction,
                    r.rms_distance_to_support
                );
            }
            if let Some(slope) = s.concentration_slope {
                println!("concentration: log-log slope of the RMS distance to K against t_min = {slope:.3} (theory: 0.5)");
            }
            log::info!("outputs in {}", dir.display());
        }
        Command::CheckTheory { config, opts } => {
            let (cfg, device, dir) = opts.prepare_diffusion(&config)?;
            let report = fpgen::run::check_theory::check_theory(&cfg, &dir, opts.quiet, device.as_ref())
                .with_context(|| format!("check-theory `{}`", cfg.name))?;
            println!("{:<72} {:>12}  {:<36} result", "check", "measured", "criterion");
            for c in &report.checks {
                println!(
                    "{:<72} {:>12.4e}  {:<36} {}",
                    c.name,
                    c.measured,
                    c.criterion,
                    if c.pass { "pass" } else { "FAIL" }
                );
            }
            log::info!("details in {}", dir.join("check.json").display());
            let failed = report.checks.iter().filter(|c| !c.pass).count();
            anyhow::ensure!(failed == 0, "{failed} check(s) failed");
        }
        Command::Render { run_dir, colormap, log_scale, linear, log_decades, range, min_pixels, out_dir } => {
            let colours = fpgen::io::rerender::ColourOverrides {
                colormap,
                log_scale: if log_scale {
                    Some(true)
                } else if linear {
                    Some(false)
                } else {
                    None
                },
                log_decades,
                range: range.map(|r| [r[0], r[1]]),
                min_pixels,
            };
            let report = fpgen::io::rerender::rerender(&run_dir, &colours, out_dir.as_deref())
                .with_context(|| format!("render {}", run_dir.display()))?;
            let s = report.scale;
            log::info!(
                "rendered {} frames, {} colour range [{:e}, {:e}]",
                report.frames.len(),
                if s.log { "log" } else { "linear" },
                s.lo,
                s.hi
            );
        }
        Command::CriticalMass {
            dim,
            gamma,
            lambda,
            beta,
            diffusion,
            box_half_width,
            mass,
            profile,
            cells,
        } => {
            let p = ModelParams { lambda, beta, gamma, diffusion };
            p.validate()?;
            anyhow::ensure!(dim == 1 || dim == 2, "--dim must be 1 or 2 (got {dim})");
            anyhow::ensure!(lambda > 0.0, "--lambda must be > 0 for a steady state (got {lambda})");
            if let Some(l) = box_half_width {
                anyhow::ensure!(l.is_finite() && l > 0.0, "--box-half-width must be > 0 (got {l})");
            }
            if let Some(m) = mass {
                anyhow::ensure!(m.is_finite() && m > 0.0, "--mass must be > 0 (got {m})");
            }
            let report = equilibrium::critical_mass_report(&p, dim, box_half_width, mass);
            let mut json = serde_json::to_value(&report)?;
            if let (Some(path), Some(m), Some(l), Some(n)) = (profile, mass, box_half_width, cells) {
                let grid = fpgen::grid::Grid::new(dim, n, l)?;
                let (theta, f) = equilibrium::grid_profile(&p, &grid, m);
                fpgen::io::write_field_npy(&path, &grid, &f)?;
                json["grid_theta"] = serde_json::json!(if theta.is_finite() { Some(theta) } else { None });
                json["profile"] = serde_json::json!(path.display().to_string());
                json["origin_cell_mass"] = serde_json::json!(
                    grid.origin_cells().iter().map(|&i| f[i]).sum::<f64>() * grid.cell_volume()
                );
            }
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        Command::Verify { config, overrides, tol_scale, json } => {
            anyhow::ensure!(tol_scale > 0.0, "--tol-scale must be > 0 (got {tol_scale})");
            let cfg =
                Config::load(&config, &overrides).with_context(|| format!("loading {}", config.display()))?;
            let report = fpgen::run::verify::verify(&cfg, tol_scale).context("verify")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("# verify `{}` on {}", cfg.name, report.device);
                println!(
                    "# steps: gpu-f32 {}, cpu-f32 {}, cpu-f64 {}",
                    report.steps[0], report.steps[1], report.steps[2]
                );
                println!(
                    "{:<20} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}  result  (worst diagnostic)",
                    "pair", "max_abs", "rel_L1", "tol", "rel_Linf", "tol", "diag_rel"
                );
                for c in &report.comparisons {
                    println!(
                        "{:<20} {:>11.3e} {:>11.3e} {:>11.1e} {:>11.3e} {:>11.1e} {:>11.3e}  {}  ({}; tol {:.1e})",
                        c.pair,
                        c.max_abs,
                        c.rel_l1,
                        c.tolerances.rel_l1,
                        c.rel_linf,
                        c.tolerances.rel_linf,
                        c.diagnostics,
                        if c.pass { "PASS" } else { "FAIL" },
                        c.worst_diagnostic,
                        c.tolerances.diagnostics
                    );
                }
            }
            anyhow::ensure!(report.pass, "verify: differences above tolerance (see the table)");
        }
        Command::BenchParticles { backend, counts, cells, steps, repeats, json } => {
            anyhow::ensure!(steps > 0, "--steps must be at least 1");
            anyhow::ensure!(cells >= 3, "--cells must be at least 3 (got {cells})");
            if !json {
                println!("# particles: 2D, gamma = 2, drift-implicit, dt = 1e-3, {steps} steps, median of {repeats}; grid {cells}^2 over [-6, 6]^2, 1 smoothing sweep");
                println!(
                    "{:>8} {:>5} {:>10} {:>11} {:>10} {:>18}",
                    "backend", "prec", "N_p", "interacting", "ms/step", "particle-steps/s"
                );
            }
            for &count in &counts {
                anyhow::ensure!(count > 0, "--counts: every count must be at least 1");
                for interacting in [true, false] {
                    let row = fpgen::run::bench::measure_particles(
                        backend == BenchBackend::Gpu,
                        count,
                        interacting,
                        cells,
                        steps,
                        repeats,
                    )?;
                    print_row(json, &row, |row| {
                        format!(
                            "{:>8} {:>5} {:>10} {:>11} {:>10.3} {:>18.3e}",
                            row.backend,
                            row.precision,
                            row.particles,
                            row.interacting,
                            row.ms_per_step,
                            row.particle_steps_per_second
                        )
                    })?;
                }
            }
        }
        Command::BenchScore { backend, data, samples, steps, repeats, json } => {
            anyhow::ensure!(steps > 0, "--steps must be at least 1");
            anyhow::ensure!(data.iter().all(|&n| n > 0), "--data: every count must be at least 1");
            anyhow::ensure!(samples.iter().all(|&n| n > 0), "--samples: every count must be at least 1");
            let device = match backend {
                BenchBackend::Cpu => None,
                BenchBackend::Gpu => {
                    let most = data.iter().chain(&samples).copied().max().unwrap_or(1);
                    Some(
                        fpgen::gpu::GpuContext::new_for_chunks(16 * most as u64)
                            .context("opening the GPU")?,
                    )
                }
            };
            if !json {
                println!("# score: lemniscate data (a = 2, weights 1/n), heat equation, exponential steps (epsilon = 0.2) from T = 1 towards 0.01, {steps} steps, median of {repeats}");
                println!(
                    "{:>8} {:>5} {:>9} {:>10} {:>11} {:>16}  device",
                    "backend", "prec", "data", "samples", "ms/step", "pair-evals/s"
                );
            }
            for &n_data in &data {
                for &n_samples in &samples {
                    let row =
                        fpgen::run::bench::measure_score(device.as_ref(), n_data, n_samples, steps, repeats)?;
                    print_row(json, &row, |row| {
                        format!(
                            "{:>8} {:>5} {:>9} {:>10} {:>11.3} {:>16.3e}  {}",
                            row.backend,
                            row.precision,
                            row.data_points,
                            row.samples,
                            row.ms_per_step,
                            row.pair_evaluations_per_second,
                            row.device
                        )
                    })?;
                }
            }
        }
        Command::Info => {
            println!("fpgen {}", env!("CARGO_PKG_VERSION"));
            println!("backends:");
            println!("  cpu   available  ({} threads, f32 and f64)", rayon::current_num_threads());
            println!("  gpu   f32; both schemes, Euler and SSP-RK2, frames drawn on the device (`run --backend gpu|auto`);");
            println!(
                "        log-score reverse and reverse particles (`generate`, `filter`); score samplers and"
            );
            println!("        the backward Fokker–Planck solves (`sample`, `check-theory`)");
            let adapters = fpgen::gpu::context::list_adapters();
            if adapters.is_empty() {
                println!("GPU adapters: none found (a Vulkan driver such as mesa-vulkan-drivers provides lavapipe)");
            }
            for a in adapters {
                println!(
                    "GPU adapter: {} ({}, {}, driver {} {})",
                    a.name, a.backend, a.device_type, a.driver, a.driver_info
                );
                println!(
                    "  f64 shaders: {}  timestamps: {}  subgroups: {}  max_storage_buffer_binding_size: {}  max_buffer_size: {}  max workgroup x: {}  max invocations: {}",
                    a.f64_shaders,
                    a.timestamp_queries,
                    a.subgroups,
                    a.max_storage_buffer_binding_size,
                    a.max_buffer_size,
                    a.max_compute_workgroup_size_x,
                    a.max_compute_invocations_per_workgroup
                );
            }
        }
        Command::Bench { backend, sizes, precision, steps, repeats, threads, json } => {
            let gpu = backend == BenchBackend::Gpu;
            let sizes = if !sizes.is_empty() {
                sizes
            } else if gpu {
                vec![1025, 2049, 4097]
            } else {
                vec![257, 513, 1025]
            };
            let precisions: Vec<Precision> = precision
                .iter()
                .map(|p| match p {
                    PrecisionArg::F32 => Precision::F32,
                    PrecisionArg::F64 => Precision::F64,
                })
                .collect();
            for &n in &sizes {
                anyhow::ensure!(n >= 3, "--sizes: every size must be at least 3 (got {n})");
            }
            anyhow::ensure!(steps > 0, "--steps must be at least 1");
            let rows = if gpu {
                sizes
                    .iter()
                    .map(|&n| fpgen::run::bench::measure_gpu(n, steps, repeats))
                    .collect::<Result<Vec<_>, _>>()?
            } else {
                fpgen::run::bench::run(&sizes, &precisions, steps, repeats, threads)?
            };
            if !json {
                println!("# peer problem: 2D, gamma = 2, L = 6, upwind, explicit Euler, dt = 0.2 h^2, {steps} steps, median of {repeats}");
                if let Some(r) = rows.first() {
                    println!("# device: {} (timing: {})", r.device, r.timing);
                }
                println!(
                    "{:>8} {:>5} {:>7} {:>6} {:>10} {:>13} {:>9} {:>15}",
                    "backend",
                    "prec",
                    "threads",
                    "N",
                    "ms/step",
                    "Mcell-upd/s",
                    "eff_GB/s",
                    "rel_mass_change"
                );
            }
            for row in rows {
                print_row(json, &row, |row| {
                    format!(
                        "{:>8} {:>5} {:>7} {:>6} {:>10.3} {:>13.1} {:>9.1} {:>15.2e}",
                        row.backend,
                        row.precision,
                        row.threads,
                        row.cells,
                        row.ms_per_step,
                        row.mcell_updates_per_second,
                        row.effective_gb_per_second,
                        row.rel_mass_change
                    )
                })?;
            }
        }
    }
    Ok(())
}

/// One benchmark row: a JSON line, or the table line `line` formats.
fn print_row<R: serde::Serialize>(json: bool, row: &R, line: impl FnOnce(&R) -> String) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(row)?);
    } else {
        println!("{}", line(row));
    }
    Ok(())
}
