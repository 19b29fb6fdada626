//! `fpgen collect SWEEP_DIR`: one table of the swept keys and every point's results
//! (collect.csv) and the same as a dataset with the axes as dimensions (collect.zarr).

use std::path::PathBuf;

use anyhow::{Context, Result};

#[derive(clap::Args)]
pub struct Args {
    /// The sweep directory (<out>/<name>, holding sweep.json).
    pub sweep_dir: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let c = fpgen::run::collect::collect(&args.sweep_dir)
        .with_context(|| format!("collecting {}", args.sweep_dir.display()))?;
    let statuses: Vec<String> = c.by_status.iter().map(|(s, n)| format!("{n} {s}")).collect();
    println!("{} points: {}", c.points, statuses.join(", "));
    println!("columns: {}", c.columns.join(", "));
    println!("{}", args.sweep_dir.join("collect.csv").display());
    println!("{}", args.sweep_dir.join("collect.zarr").display());
    Ok(())
}
