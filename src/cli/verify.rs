//! `fpgen verify`: run a config on the GPU (f32) and the CPU (f32 and f64) and compare;
//! exits non-zero above the printed tolerances.

use std::path::PathBuf;

use super::args::*;
use anyhow::{Context, Result};

use fpgen::config::Config;

#[derive(clap::Args)]
pub struct Args {
    pub config: PathBuf,
    /// Override a config key, e.g. --set grid.cells=513 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Multiply every tolerance by this.
    #[arg(long, default_value_t = 1.0)]
    pub tol_scale: f64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let Args { config, overrides, tol_scale, json } = args;
    anyhow::ensure!(tol_scale > 0.0, "--tol-scale must be > 0 (got {tol_scale})");
    let cfg = Config::load(&config, &overrides).with_context(|| format!("loading {}", config.display()))?;
    let report = fpgen::run::verify::verify(&cfg, tol_scale).context("verify")?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("# verify `{}` on {}", cfg.name, report.device);
        println!(
            "# steps: gpu-f32 {}, cpu-f32 {}, cpu-f64 {}",
            report.steps[0], report.steps[1], report.steps[2]
        );
        println!(
            "{:<20} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}  result  (worst diagnostic)",
            "pair", "max_abs", "rel_L1", "tol", "rel_Linf", "tol", "diag_rel"
        );
        for c in &report.comparisons {
            println!(
                "{:<20} {:>11.3e} {:>11.3e} {:>11.1e} {:>11.3e} {:>11.1e} {:>11.3e}  {}  ({}; tol {:.1e})",
                c.pair,
                c.max_abs,
                c.rel_l1,
                c.tolerances.rel_l1,
                c.rel_linf,
                c.tolerances.rel_linf,
                c.diagnostics,
                if c.pass { "PASS" } else { "FAIL" },
                c.worst_diagnostic,
                c.tolerances.diagnostics
            );
        }
    }
    if !report.pass {
        return Err(Exit::check_failed("verify: differences above tolerance (see the table)").into());
    }
    Ok(())
}
