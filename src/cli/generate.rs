//! `fpgen generate`: forward run to run.t_final, then the reverse-time solver ([reverse]
//! section) back to t = 0: the reconstruction of f(0) (and generated samples) with its
//! distances to f(0) in <out>/<name>/summary.json.

use anyhow::{Context, Result};

use super::args::*;

pub type Args = ConfigArgs;

pub fn run(args: Args) -> Result<()> {
    let ConfigArgs { config, opts } = args;
    let (cfg, device, mut dir) = opts.prepare(&config, reverse_unsupported)?;
    let result = fpgen::run::generate_filter::generate_run(&cfg, &mut dir, opts.quiet, &device);
    let target = dir.finish()?;
    let s = result.with_context(|| format!("generate `{}`", cfg.name))?;
    let (g, c) = (&s.generation, &s.generated_vs_initial);
    log::info!(
        "on {}: {} steps forward ({:.2} s), {} back ({:.2} s), mode {:?}, start {:?}, eta {}",
        s.device,
        g.forward_steps,
        g.forward_seconds,
        g.reverse_steps,
        g.reverse_seconds,
        s.mode,
        s.start,
        s.eta
    );
    log::info!(
            "generated vs f(0): relative L1 {:.3e}, KL {:.3e}, W1 {:.3e} ({}); mass drift {:.1e}; store {:.1} MiB in memory, {:.1} MiB on disk",
            c.rel_l1,
            c.kl,
            c.w1,
            c.w1_kind,
            (g.mass_generated - g.mass_initial) / g.mass_initial,
            g.store_memory_bytes as f64 / 1048576.0,
            g.store_disk_bytes as f64 / 1048576.0
        );
    if let Some(p) = &s.samples_vs_initial {
        log::info!("{} samples vs f(0): relative L1 {:.3e}, W1 {:.3e}", g.particle_count, p.rel_l1, p.w1);
    }
    log::info!("outputs in {}", target.display());
    Ok(())
}
