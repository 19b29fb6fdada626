//! `fpgen bench-suite`: every device benchmark in one run, into DIR/bench_suite.json and
//! DIR/bench_suite.md, rewritten after each benchmark (the table is printed at the end).

use std::path::PathBuf;

use anyhow::{Context, Result};

use fpgen::gpu::{Device, DeviceChoice, DeviceNeeds};
use fpgen::run::bench_suite::{markdown, SuiteReport};

#[derive(clap::Args)]
pub struct Args {
    /// Where bench_suite.json and bench_suite.md go.
    #[arg(long, default_value = "out/bench-suite")]
    pub out: PathBuf,
    /// Small sizes (seconds on lavapipe): a rehearsal, not a measurement.
    #[arg(long)]
    pub quick: bool,
    /// The device's memory bandwidth in GB/s (a measured copy, or the datasheet's): each
    /// forward row then reads as a fraction of it.
    #[arg(long)]
    pub peak_gbps: Option<f64>,
}

pub fn run(args: Args) -> Result<()> {
    if let Some(p) = args.peak_gbps {
        anyhow::ensure!(p.is_finite() && p > 0.0, "--peak-gbps must be a positive number of GB/s (got {p})");
    }
    // each size checks the adapter's limits itself: open the device for the smallest
    let device =
        Device::resolve(DeviceChoice::Gpu, DeviceNeeds { buffer_bytes: 4 * 129 * 129, grid_dim: Some(2) })
            .context("opening the GPU")?;
    let ctx = device.gpu().context("bench-suite measures the GPU; none was opened")?;
    let plan = fpgen::run::bench_suite::SuitePlan::new(args.quick);
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let (json, md) = (args.out.join("bench_suite.json"), args.out.join("bench_suite.md"));
    // written after every benchmark: a run stopped by a time limit keeps what it measured
    let mut rows = 0;
    let mut write = |r: &SuiteReport| -> fpgen::Result<()> {
        let done = r.forward.len() + r.particles.len() + r.score.len() + r.reverse_pde.len();
        if done > rows {
            rows = done;
            eprintln!("bench-suite: {done} rows measured, {} skipped", r.skipped.len());
        }
        fpgen::io::write_json(&json, r)?;
        fpgen::io::write_text(&md, &markdown(r))
    };
    let report = fpgen::run::bench_suite::run(ctx, &plan, args.peak_gbps, &mut write)?;
    print!("{}", markdown(&report));
    println!("\nwritten: {}", json.display());
    Ok(())
}
