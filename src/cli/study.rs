//! `fpgen study blowup CONFIG --cells N1 N2 N3`: the config at several resolutions with its
//! threshold-free blow-up time and condensate mass, Richardson-extrapolated, as a table
//! (and <out>/<name>_blowup/study.csv, study.json).

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::args::load_config;

#[derive(clap::Subcommand)]
pub enum Study {
    /// Blow-up time and condensate mass at several resolutions, extrapolated.
    Blowup(BlowupArgs),
}

#[derive(clap::Args)]
pub struct BlowupArgs {
    pub config: PathBuf,
    /// Cells per side, increasing (three or more for the observed order).
    #[arg(long, num_args = 2.., required = true)]
    pub cells: Vec<usize>,
    /// Parent folder of <name>_blowup/.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Override a config key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(study: Study) -> Result<()> {
    let Study::Blowup(args) = study;
    let cfg = load_config(&args.config, &args.overrides)?;
    let s = fpgen::run::study::blowup_study(&cfg, &args.cells, &args.out, args.quiet)
        .with_context(|| format!("blow-up study of `{}`", cfg.name))?;
    println!(
        "M = {:.6} = {:.4} M_c (M_c on the box {:.6})",
        s.mass,
        s.mass / s.critical_mass_box,
        s.critical_mass_box
    );
    println!(
        "{:>7} {:>10} {:>10} {:>8} {:>12} {:>14} {:>16} {:>9}",
        "cells", "h", "status", "steps", "r_h", "blowup_time", "condensate_mass", "seconds"
    );
    for r in &s.runs {
        println!(
            "{:>7} {:>10.4e} {:>10} {:>8} {:>12.4e} {:>14} {:>16.8} {:>9.2}",
            r.cells,
            r.h,
            r.status,
            r.steps,
            r.regular_origin_mass,
            r.blowup_time.map_or("never".to_string(), |t| format!("{t:.6}")),
            r.condensate_mass,
            r.wall_seconds
        );
    }
    for e in &s.extrapolations {
        match (e.observed_order, e.extrapolated) {
            (Some(p), Some(q)) => println!("{}: extrapolated {q:.8}, observed order {p:.3}", e.quantity),
            _ => println!("{}: no extrapolation (needs three values whose differences shrink)", e.quantity),
        }
    }
    println!("{}", s.dir.join("study.csv").display());
    Ok(())
}
