//! `fpgen bench-suite`: every device benchmark in one run, into DIR/bench_suite.json and
//! DIR/bench_suite.md (the table is printed too).

use std::path::PathBuf;

use anyhow::{Context, Result};

use fpgen::gpu::{Device, DeviceChoice, DeviceNeeds};

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
    let report = fpgen::run::bench_suite::run(ctx, &plan, args.peak_gbps)?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let table = fpgen::run::bench_suite::markdown(&report);
    fpgen::io::write_json(&args.out.join("bench_suite.json"), &report)?;
    fpgen::io::write_text(&args.out.join("bench_suite.md"), &table)?;
    print!("{table}");
    println!("\nwritten: {}", args.out.join("bench_suite.json").display());
    Ok(())
}
