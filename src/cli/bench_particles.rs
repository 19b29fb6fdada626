//! `fpgen bench-particles`: particle-steps/s of the particle system (2D, γ = 2,
//! drift-implicit), interacting (deposition on a CELLS² grid) and not (the OU step alone).

use anyhow::{Context, Result};

use super::args::*;
use fpgen::gpu::{Device, DeviceChoice, DeviceNeeds};

#[derive(clap::Args)]
pub struct Args {
    /// cpu (f32) or gpu (f32).
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: DeviceChoice,
    #[arg(long, num_args = 1.., default_values_t = [100_000usize, 1_000_000, 10_000_000])]
    pub counts: Vec<usize>,
    #[arg(long, default_value_t = 1025)]
    pub cells: usize,
    #[arg(long, default_value_t = 5)]
    pub steps: u32,
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Print JSON rows instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let Args { backend, counts, cells, steps, repeats, json } = args;
    let most = counts.iter().map(|&c| c * 8).max().unwrap_or(0).max(cells * cells * 8);
    let device = Device::resolve(backend, DeviceNeeds { buffer_bytes: most as u64, grid_dim: None })
        .context("opening the GPU")?;
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
            let row =
                fpgen::run::bench::measure_particles(&device, count, interacting, cells, steps, repeats)?;
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
    Ok(())
}
