//! `fpgen critical-mass`: critical mass M_c(γ, d) on ℝ^d and on the box, as JSON.

use std::path::PathBuf;

use anyhow::Result;

use fpgen::model::equilibrium;
use fpgen::model::{ModelParams, Statistics};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub dim: usize,
    #[arg(long)]
    pub gamma: f64,
    #[arg(long, default_value_t = 1.0)]
    pub lambda: f64,
    #[arg(long, default_value_t = 1.0)]
    pub beta: f64,
    #[arg(long, default_value_t = 1.0)]
    pub diffusion: f64,
    /// bose: m = f (1 + β f^γ); fermi: m = f (1 − β f^γ), which has no critical mass.
    #[arg(long, default_value = "bose", value_parser = ["bose", "fermi"])]
    pub statistics: String,
    /// L of the box [-L, L]^d (adds critical_mass_box).
    #[arg(long)]
    pub box_half_width: Option<f64>,
    /// A mass M: also print θ(M) (null when M ≥ M_c) and the condensate mass.
    #[arg(long)]
    pub mass: Option<f64>,
    /// Write the discrete steady state f_θ(x_i) of mass M on the grid of `--cells`
    /// cells per side over the box to this .npy file (needs --mass and
    /// --box-half-width); θ is fixed by the discrete mass and printed as grid_theta.
    #[arg(long, requires_all = ["mass", "box_half_width", "cells"])]
    pub profile: Option<PathBuf>,
    /// Cells per side of the grid for --profile.
    #[arg(long)]
    pub cells: Option<usize>,
}

pub fn run(args: Args) -> Result<()> {
    let Args { dim, gamma, lambda, beta, diffusion, statistics, box_half_width, mass, profile, cells } = args;
    let statistics = if statistics == "fermi" { Statistics::Fermi } else { Statistics::Bose };
    let p = ModelParams { statistics, ..ModelParams::bose(lambda, beta, gamma, diffusion) };
    p.validate()?;
    anyhow::ensure!(dim == 1 || dim == 2, "--dim must be 1 or 2 (got {dim})");
    anyhow::ensure!(lambda > 0.0, "--lambda must be > 0 for a steady state (got {lambda})");
    if let Some(l) = box_half_width {
        anyhow::ensure!(l.is_finite() && l > 0.0, "--box-half-width must be > 0 (got {l})");
    }
    if let Some(m) = mass {
        anyhow::ensure!(m.is_finite() && m > 0.0, "--mass must be > 0 (got {m})");
    }
    if let Err(why) = equilibrium::check_certified_gamma(gamma, dim) {
        anyhow::bail!("--gamma: {why}");
    }
    let report = equilibrium::critical_mass_report(&p, dim, box_half_width, mass);
    let mut json = serde_json::to_value(&report)?;
    if let (Some(path), Some(m), Some(l), Some(n)) = (profile, mass, box_half_width, cells) {
        let grid = fpgen::grid::Grid::new(dim, n, l)?;
        let (theta, f) = equilibrium::grid_profile(&p, &grid, m);
        fpgen::io::write_field_npy(&path, &grid, &f)?;
        json["grid_theta"] = serde_json::json!(if theta.is_finite() { Some(theta) } else { None });
        json["profile"] = serde_json::json!(path.display().to_string());
        json["origin_cell_mass"] =
            serde_json::json!(grid.origin_cells().iter().map(|&i| f[i]).sum::<f64>() * grid.cell_volume());
    }
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}
