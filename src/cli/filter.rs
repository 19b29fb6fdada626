//! `fpgen filter`: density filtering: K forward + reverse cycles from the initial density;
//! <out>/<name>/filter.csv (per-iteration metrics), run.zarr (the iterates), strip.png.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::args::*;

#[derive(clap::Args)]
pub struct Args {
    pub config: PathBuf,
    #[arg(long, default_value_t = 3)]
    pub iterations: usize,
    #[command(flatten)]
    pub opts: RunArgs,
}

pub fn run(args: Args) -> Result<()> {
    let Args { config, iterations, opts } = args;
    anyhow::ensure!(iterations >= 1, "--iterations must be at least 1 (got {iterations})");
    let (cfg, device, mut dir) = opts.prepare(&config, reverse_unsupported)?;
    let result =
        fpgen::run::generate_filter::filter_run(&cfg, &mut dir, iterations, opts.quiet, &device, false);
    let target = dir.finish()?;
    let s = result.with_context(|| format!("filter `{}`", cfg.name))?;
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
    log::info!("outputs in {}", target.display());
    Ok(())
}
