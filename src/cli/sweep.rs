//! `fpgen sweep SPEC.toml`: a parameter sweep. Every point runs in its own process (`--jobs
//! N` at once, `--gpus` spreading them over adapters), or one point (`--index I`, default
//! `$SLURM_ARRAY_TASK_ID`), or the sweep becomes a SLURM job array (`--emit slurm`,
//! `--submit`). Finished points are skipped, interrupted ones resumed, failed ones rerun.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result};

use super::args::Exit;
use fpgen::gpu::DeviceChoice;
use fpgen::run::progress::Progress;
use fpgen::run::slurm::{self, SlurmOptions};
use fpgen::run::sweep::Sweep;
use fpgen::run::sweep_point::{run_point, status_of, PointOutcome, FINISHED};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Emit {
    Slurm,
}

#[derive(clap::Args)]
pub struct Args {
    /// The sweep spec (TOML: base, command, set, [axes], [zip.<group>]).
    pub spec: PathBuf,
    /// Parent folder of the sweep directory <out>/<name>.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// cpu, gpu (f32) or auto, for every point.
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: DeviceChoice,
    /// Points run at once, each in its own process.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Adapter indices (hardware first, as `fpgen info` lists them) to spread the running
    /// points over: the process in slot s uses GPUS[s mod len].
    #[arg(long, value_delimiter = ',')]
    pub gpus: Vec<usize>,
    /// Run only this point (default: $SLURM_ARRAY_TASK_ID when set).
    #[arg(long)]
    pub index: Option<usize>,
    /// Write a job script instead of running: <out>/<name>/sweep.sbatch.
    #[arg(long, value_enum)]
    pub emit: Option<Emit>,
    /// Submit the script with sbatch (with --emit slurm).
    #[arg(long, requires = "emit")]
    pub submit: bool,
    /// SLURM partition.
    #[arg(long)]
    pub partition: Option<String>,
    /// SLURM wall time per task (e.g. 01:00:00).
    #[arg(long)]
    pub time: Option<String>,
    /// CPUs per task (SLURM); the task's rayon threads.
    #[arg(long, default_value_t = 1)]
    pub cpus: usize,
    /// GPUs per task (SLURM binds each task to its own).
    #[arg(long)]
    pub gpus_per_task: Option<usize>,
    /// Array tasks running at once (SLURM's %K).
    #[arg(long)]
    pub max_parallel: Option<usize>,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

fn backend_name(choice: DeviceChoice) -> &'static str {
    match choice {
        DeviceChoice::Cpu => "cpu",
        DeviceChoice::Gpu => "gpu",
        DeviceChoice::Auto => "auto",
    }
}

pub fn run(args: Args) -> Result<()> {
    let sweep =
        Sweep::load(&args.spec).with_context(|| format!("loading the sweep {}", args.spec.display()))?;
    let index = match (args.index, &args.emit) {
        (Some(i), _) => Some(i),
        (None, None) => std::env::var("SLURM_ARRAY_TASK_ID").ok().and_then(|v| v.parse().ok()),
        (None, Some(_)) => None,
    };
    if index.is_none() {
        sweep.check_points()?;
    }
    let dir = sweep.prepare(&args.out)?;
    if let Some(i) = index {
        let outcome = run_point(&sweep, &dir, i, args.backend, args.quiet)
            .with_context(|| format!("sweep `{}` point {i}", sweep.name))?;
        let name = &sweep.points[i].name;
        match outcome {
            PointOutcome::AlreadyFinished(s) => println!("point {i} ({name}): already {s}"),
            PointOutcome::Ran { status, resumed } => {
                println!("point {i} ({name}): {status}{}", if resumed { " (resumed)" } else { "" })
            }
        }
        return Ok(());
    }
    if let Some(Emit::Slurm) = args.emit {
        return emit_slurm(&args, &sweep, &dir);
    }
    run_local(&args, &sweep, &dir)
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(path).with_context(|| format!("resolving {}", path.display()))
}

fn emit_slurm(args: &Args, sweep: &Sweep, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir.join("logs"))?;
    let options = SlurmOptions {
        partition: args.partition.clone(),
        time: args.time.clone(),
        cpus: args.cpus,
        gpus_per_task: args.gpus_per_task,
        max_parallel: args.max_parallel,
        backend: backend_name(args.backend).into(),
    };
    let exe = std::env::current_exe().context("locating the fpgen binary")?;
    let (spec, out, dir) = (absolute(&args.spec)?, absolute(&args.out)?, absolute(dir)?);
    let text = slurm::script(&sweep.name, sweep.points.len(), &exe, &spec, &out, &dir, &options);
    let path = dir.join("sweep.sbatch");
    fpgen::io::write_text(&path, &text)?;
    println!("{}", path.display());
    if args.submit {
        let output = Command::new("sbatch")
            .arg(&path)
            .output()
            .context("running sbatch (is SLURM installed and on PATH?)")?;
        if !output.status.success() {
            anyhow::bail!("sbatch failed: {}", String::from_utf8_lossy(&output.stderr).trim());
        }
        print!("{}", String::from_utf8_lossy(&output.stdout));
    }
    Ok(())
}

/// Every point in its own process, `jobs` at once; logs in <dir>/logs/<point>.log.
fn run_local(args: &Args, sweep: &Sweep, dir: &Path) -> Result<()> {
    let jobs = args.jobs.max(1);
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    let exe = std::env::current_exe().context("locating the fpgen binary")?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| (cores / jobs).max(1).to_string());
    let total = sweep.points.len();
    let mut pending: VecDeque<usize> = (0..total).collect();
    let mut running: Vec<(usize, usize, Child)> = Vec::new();
    let (mut done, mut skipped) = (0usize, 0usize);
    let mut failed: Vec<(usize, i32)> = Vec::new();
    let mut bar = Progress::new(args.quiet);
    while !pending.is_empty() || !running.is_empty() {
        while running.len() < jobs && !fpgen::run::interrupt::requested() {
            let Some(i) = pending.pop_front() else { break };
            let point = &sweep.points[i];
            if status_of(&dir.join(&point.name)).is_some_and(|s| FINISHED.contains(&s.as_str())) {
                skipped += 1;
                done += 1;
                continue;
            }
            let slot = (0..jobs).find(|s| running.iter().all(|(_, t, _)| t != s)).unwrap_or(0);
            let log = std::fs::File::create(logs.join(format!("{}.log", point.name)))?;
            let mut command = Command::new(&exe);
            command
                .arg("sweep")
                .arg(&args.spec)
                .arg("--out")
                .arg(&args.out)
                .args(["--index", &i.to_string(), "--backend", backend_name(args.backend), "--quiet"])
                .env("RAYON_NUM_THREADS", &threads)
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log);
            if !args.gpus.is_empty() {
                command.env("FPGEN_ADAPTER_INDEX", args.gpus[slot % args.gpus.len()].to_string());
            }
            running.push((i, slot, command.spawn().context("starting a point")?));
        }
        if fpgen::run::interrupt::requested() {
            pending.clear();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut still = Vec::new();
        for (i, slot, mut child) in running.drain(..) {
            match child.try_wait()? {
                Some(status) => {
                    done += 1;
                    if !status.success() {
                        failed.push((i, status.code().unwrap_or(fpgen::error::exit::INTERRUPTED)));
                    }
                    bar.report(done as f64 / total as f64, || format!("{done} of {total} points"));
                }
                None => still.push((i, slot, child)),
            }
        }
        running = still;
    }
    bar.finish();
    println!(
        "sweep `{}`: {total} points in {}: {} run, {skipped} already finished, {} failed",
        sweep.name,
        dir.display(),
        done - skipped - failed.len(),
        failed.len()
    );
    if fpgen::run::interrupt::requested() {
        return Err(Exit {
            code: fpgen::error::exit::INTERRUPTED,
            message: "interrupted: rerun the sweep to go on".into(),
        }
        .into());
    }
    if let Some(&(_, code)) = failed.first() {
        let list: Vec<String> = failed
            .iter()
            .map(|(i, c)| {
                format!(
                    "{} (exit {c}, log {})",
                    sweep.points[*i].name,
                    logs.join(format!("{}.log", sweep.points[*i].name)).display()
                )
            })
            .collect();
        return Err(Exit {
            code,
            message: format!("{} point(s) failed:\n  {}", failed.len(), list.join("\n  ")),
        }
        .into());
    }
    Ok(())
}
