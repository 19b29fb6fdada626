//! `fpgen run`: run a forward simulation from a TOML config into <out>/<name>/.

use anyhow::{Context, Result};

use super::args::*;
use fpgen::run::RunOptions;

pub type Args = ConfigArgs;

pub fn run(args: Args) -> Result<()> {
    let ConfigArgs { config, opts } = args;
    let (cfg, device, mut dir) = opts.prepare(&config, fpgen::forward::gpu_unsupported)?;
    let result = fpgen::run::run_config(
        &cfg,
        opts.backend,
        &mut dir,
        &RunOptions { quiet: opts.quiet, on_output: None },
        &device,
        false,
    );
    dir.finish()?;
    let report = result.with_context(|| format!("run `{}`", cfg.name))?;
    if let Some(summary) = &report.grid {
        log::info!("{}: {}", summary.status, summary.message);
        log::info!(
                "mass {:.12e} -> {:.12e} (max rel drift {:.2e}), origin-cell mass {:.4e}, {:.1} Mcell-upd/s, {:.2} s",
                summary.mass_initial,
                summary.mass_final,
                summary.max_rel_mass_drift,
                summary.origin_cell_mass,
                summary.cell_updates_per_second / 1e6,
                summary.wall_seconds
            );
    }
    if let Some(p) = &report.particles {
        log::info!(
            "particles: {} steps of {} particles on {} ({}), {:.3e} particle-steps/s, {:.2} s",
            p.steps,
            p.count,
            p.backend,
            p.precision,
            p.particle_steps_per_second,
            p.wall_seconds
        );
    }
    Ok(())
}
