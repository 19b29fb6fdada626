//! `fpgen bench-score`: score pair evaluations/s (samples × data points × steps per second)
//! of the reverse sampler: lemniscate data, heat equation, exponential steps.

use anyhow::{Context, Result};

use super::args::*;
use fpgen::gpu::{Device, DeviceChoice, DeviceNeeds};

#[derive(clap::Args)]
pub struct Args {
    /// cpu (f64) or gpu (f32).
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: DeviceChoice,
    /// Data points (one row per count and sample count).
    #[arg(long, num_args = 1.., default_values_t = [10_000usize])]
    pub data: Vec<usize>,
    #[arg(long, num_args = 1.., default_values_t = [100_000usize])]
    pub samples: Vec<usize>,
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Print JSON rows instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let Args { backend, data, samples, steps, repeats, json } = args;
    anyhow::ensure!(steps > 0, "--steps must be at least 1");
    anyhow::ensure!(data.iter().all(|&n| n > 0), "--data: every count must be at least 1");
    anyhow::ensure!(samples.iter().all(|&n| n > 0), "--samples: every count must be at least 1");
    let most = data.iter().chain(&samples).copied().max().unwrap_or(1);
    let device = Device::resolve(backend, DeviceNeeds::for_points(most)).context("opening the GPU")?;
    if !json {
        println!("# score: lemniscate data (a = 2, weights 1/n), heat equation, exponential steps (epsilon = 0.2) from T = 1 towards 0.01, {steps} steps, median of {repeats}");
        println!(
            "{:>8} {:>5} {:>9} {:>10} {:>11} {:>16}  device",
            "backend", "prec", "data", "samples", "ms/step", "pair-evals/s"
        );
    }
    for &n_data in &data {
        for &n_samples in &samples {
            let row = fpgen::run::bench::measure_score(&device, n_data, n_samples, steps, repeats)?;
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
    Ok(())
}
