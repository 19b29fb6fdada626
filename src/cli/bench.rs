//! `fpgen bench`: cell-updates/s on the peer problem (2D, γ = 2, upwind, explicit Euler).

use anyhow::{Context, Result};

use super::args::*;
use fpgen::config::Precision;
use fpgen::gpu::{Device, DeviceChoice, DeviceNeeds};

#[derive(clap::Args)]
pub struct Args {
    /// cpu (f64 and f32) or gpu (f32).
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: DeviceChoice,
    /// Default: 257 513 1025 on the CPU, 1025 2049 4097 on the GPU.
    #[arg(long, num_args = 1..)]
    pub sizes: Vec<usize>,
    #[arg(long, value_enum, num_args = 1.., default_values = ["f64", "f32"])]
    pub precision: Vec<PrecisionArg>,
    #[arg(long, default_value_t = 200)]
    pub steps: u64,
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print JSON rows instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let Args { backend, sizes, precision, steps, repeats, threads, json } = args;
    let gpu_sizes = if sizes.is_empty() { vec![1025, 2049, 4097] } else { sizes.clone() };
    let largest = gpu_sizes.iter().map(|&n| n * n * 4).max().unwrap_or(0) as u64;
    let device = Device::resolve(backend, DeviceNeeds { buffer_bytes: largest, grid_dim: None })
        .context("opening the GPU")?;
    let sizes = match (&device, sizes.is_empty()) {
        (Device::Gpu(_), _) | (Device::Cpu, false) => gpu_sizes,
        (Device::Cpu, true) => vec![257, 513, 1025],
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
    let rows = if let Some(ctx) = device.gpu() {
        sizes
            .iter()
            .map(|&n| fpgen::run::bench::measure_gpu(ctx, n, steps, repeats))
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
            "backend", "prec", "threads", "N", "ms/step", "Mcell-upd/s", "eff_GB/s", "rel_mass_change"
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
    Ok(())
}
