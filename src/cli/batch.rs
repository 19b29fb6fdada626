//! `fpgen batch`: run several configs in one process on one device: <out>/<name>/ each,
//! plus <out>/batch.csv with every run's summary.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::args::*;

#[derive(clap::Args)]
pub struct Args {
    #[arg(required = true)]
    pub configs: Vec<PathBuf>,
    #[command(flatten)]
    pub opts: RunArgs,
}

pub fn run(args: Args) -> Result<()> {
    let Args { configs, opts: RunArgs { out, backend, overrides, force, quiet } } = args;
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
    if let Some(first) = runs.iter().find(|r| r.code != 0) {
        return Err(Exit {
            code: first.code,
            message: format!("batch: {} run(s) failed:\n  {}", failed.len(), failed.join("\n  ")),
        }
        .into());
    }
    Ok(())
}
