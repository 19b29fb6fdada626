//! `fpgen check-theory`: the checks of the PDE theory of score-based diffusion (Li–Yau, L^p
//! growth, KL monotonicity, concentration rate) on a diffusion config: a pass/fail table
//! with the measured margins, <out>/<name>/check.json.

use anyhow::{Context, Result};

use super::args::*;

pub type Args = ConfigArgs;

pub fn run(args: Args) -> Result<()> {
    let ConfigArgs { config, opts } = args;
    let (cfg, device, mut dir) = opts.prepare_diffusion(&config)?;
    // the checks compute from here on; whatever they write is kept
    dir.mark_started();
    let result = fpgen::run::check_theory::check_theory(&cfg, dir.path(), opts.quiet, &device, None);
    let target = dir.finish()?;
    let report = result.with_context(|| format!("check-theory `{}`", cfg.name))?;
    println!("{:<72} {:>12}  {:<36} result", "check", "measured", "criterion");
    for c in &report.checks {
        println!(
            "{:<72} {:>12.4e}  {:<36} {}",
            c.name,
            c.measured,
            c.criterion,
            if c.pass { "pass" } else { "FAIL" }
        );
    }
    log::info!("details in {}", target.join("check.json").display());
    let failed = report.checks.iter().filter(|c| !c.pass).count();
    if failed > 0 {
        return Err(Exit::check_failed(format!("{failed} check(s) failed")).into());
    }
    Ok(())
}
