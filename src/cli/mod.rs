//! The command line: one file per command (its arguments and what it prints), the
//! options they share (`args`), and the dispatch.

mod args;
mod batch;
mod bench;
mod bench_particles;
mod bench_score;
mod bench_suite;
mod check_theory;
mod collect;
mod critical_mass;
mod filter;
mod generate;
mod info;
mod movie;
mod render;
mod resume;
mod run;
mod sample;
mod study;
mod sweep;
mod verify;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "fpgen",
    version,
    about = "PDE-based generative models: nonlinear Fokker-Planck solvers on CPU and GPU"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Refuse runs whose estimated memory exceeds this (e.g. 8G, 512M; default: the
    /// machine's available memory).
    #[arg(long, global = true, value_name = "SIZE", value_parser = fpgen::resources::parse_size)]
    max_memory: Option<u64>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a forward simulation from a TOML config into <out>/<name>/.
    Run(run::Args),
    /// Run several configs in one process on one device: <out>/<name>/ each, plus
    /// <out>/batch.csv with every run's summary. Exits non-zero when a run failed.
    Batch(batch::Args),
    /// Forward run to run.t_final, then the reverse-time solver ([reverse] section) back to
    /// t = 0: the reconstruction of f(0) (and generated samples) with its distances to f(0)
    /// in <out>/<name>/summary.json.
    Generate(generate::Args),
    /// Density filtering: K forward + reverse cycles from the initial density;
    /// <out>/<name>/filter.csv (per-iteration metrics), run.zarr (the iterates), strip.png.
    Filter(filter::Args),
    /// Score-based diffusion with point-cloud data ([data], [process], [sampler], [grid]):
    /// reverse SDE/ODE samples with the exact score into <out>/<name>/ (run.zarr with the
    /// samples per stopping time and the trajectories, their images, summary.json with the
    /// tube and memorisation shares).
    Sample(sample::Args),
    /// The checks of the PDE theory of score-based diffusion (Li–Yau, L^p growth, KL
    /// monotonicity, concentration rate) on a diffusion config: a pass/fail table with the
    /// measured margins, <out>/<name>/check.json. Exits non-zero when a check fails.
    CheckTheory(check_theory::Args),
    /// Draw the snapshots of a finished run again with new colour settings, one colour
    /// range for all (default: the range of every snapshot).
    Render(render::Args),
    /// A movie (GIF, or MP4 through ffmpeg) of a finished run's frames: RUN_DIR/movie.gif.
    Movie(movie::Args),
    /// Critical mass M_c(γ, d) on ℝ^d and on the box, as JSON.
    CriticalMass(critical_mass::Args),
    /// Run a config on the GPU (f32) and the CPU (f32 and f64) and compare; exits
    /// non-zero above the printed tolerances.
    Verify(verify::Args),
    /// Particle-steps/s of the particle system (2D, γ = 2, drift-implicit), interacting
    /// (deposition on a CELLS² grid) and not (the OU step alone).
    BenchParticles(bench_particles::Args),
    /// Score pair evaluations/s (samples × data points × steps per second) of the reverse
    /// sampler: lemniscate data, heat equation, exponential steps.
    BenchScore(bench_score::Args),
    /// Every device benchmark in one run (forward step at growing N, particles, score
    /// sampler) with the adapter's details: DIR/bench_suite.json and bench_suite.md.
    /// --quick for a rehearsal on lavapipe; --peak-gbps for fractions of the bandwidth.
    BenchSuite(bench_suite::Args),
    /// A parameter sweep from a spec (a base config and axes): every point a run directory
    /// <out>/<name>/<point>, sweep.json listing them. --jobs N runs N at once; --index I one
    /// point (default $SLURM_ARRAY_TASK_ID); --emit slurm writes a job array (--submit
    /// submits it). Finished points are skipped, interrupted ones resumed.
    Sweep(sweep::Args),
    /// Studies over several runs: `blowup` runs a config at several resolutions and
    /// extrapolates its blow-up time and condensate mass (no density threshold).
    #[command(subcommand)]
    Study(study::Study),
    /// The results of a sweep as one table (collect.csv) and a dataset with the swept keys
    /// as dimensions (collect.zarr).
    Collect(collect::Args),
    /// Continue a forward run from its checkpoint (run.checkpoint_every, or where it was
    /// interrupted or stopped at a limit), to the config's run.t_final or --t-final.
    Resume(resume::Args),
    /// Version and available backends.
    Info,
    /// Cell-updates/s on the peer problem (2D, γ = 2, upwind, explicit Euler).
    Bench(bench::Args),
}

pub use args::exit_code;

/// Run the parsed command.
pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    if let Some(bytes) = cli.max_memory {
        fpgen::resources::set_limit(bytes);
    }
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Batch(args) => batch::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Filter(args) => filter::run(args),
        Command::Sample(args) => sample::run(args),
        Command::CheckTheory(args) => check_theory::run(args),
        Command::Render(args) => render::run(args),
        Command::Movie(args) => movie::run(args),
        Command::CriticalMass(args) => critical_mass::run(args),
        Command::Verify(args) => verify::run(args),
        Command::BenchParticles(args) => bench_particles::run(args),
        Command::BenchScore(args) => bench_score::run(args),
        Command::BenchSuite(args) => bench_suite::run(args),
        Command::Resume(args) => resume::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Collect(args) => collect::run(args),
        Command::Study(study) => study::run(study),
        Command::Info => info::run(),
        Command::Bench(args) => bench::run(args),
    }
}
