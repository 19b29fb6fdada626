//! `fpgen sample`: score-based diffusion with point-cloud data ([data], [process],
//! [sampler], [grid]): reverse SDE/ODE samples with the exact score into <out>/<name>/
//! (samples_<k>.npy per stopping time, trajectories, summary.json with the tube and
//! memorisation shares).

use anyhow::{Context, Result};

use super::args::*;

pub type Args = ConfigArgs;

pub fn run(args: Args) -> Result<()> {
    let ConfigArgs { config, opts } = args;
    let (cfg, device, mut dir) = opts.prepare_diffusion(&config)?;
    let result = fpgen::run::sample::sample_run(&cfg, &mut dir, opts.quiet, &device, None);
    let target = dir.finish()?;
    let s = result.with_context(|| format!("sample `{}`", cfg.name))?;
    log::info!(
        "on {}: {} samples, {} data points, epsilon {}",
        s.device,
        s.samples,
        s.data_points,
        s.epsilon
    );
    println!(
        "{:>10} {:>9} {:>12} {:>10} {:>10} {:>12}",
        "t_min", "seconds", "tube_width", "in_tube", "memorised", "rms_dist_K"
    );
    for r in &s.stops {
        println!(
            "{:>10.3e} {:>9.2} {:>12.4e} {:>10.4} {:>10.4} {:>12.4e}",
            r.t_min,
            r.seconds,
            r.tube_half_width,
            r.tube_fraction,
            r.memorised_fraction,
            r.rms_distance_to_support
        );
    }
    if let Some(slope) = s.concentration_slope {
        println!(
            "concentration: log-log slope of the RMS distance to K against t_min = {slope:.3} (theory: 0.5)"
        );
    }
    log::info!("outputs in {}", target.display());
    Ok(())
}
