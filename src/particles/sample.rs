//! Initial particle positions from the grid solver's initial densities: Gaussian mixtures
//! exactly (restricted to the box), every other kind by inverse CDF of its cell masses
//! (uniform inside the chosen cell). Random numbers come from the shared generator with the
//! counter (particle id, INIT_STEP, draw), so the positions do not depend on the backend.

use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::model::initial_density::InitialDensity;
use crate::rng;

/// The `step` word of the counter used for initial positions (time steps count from 0).
pub const INIT_STEP: u32 = u32::MAX;

/// A uniform in [0, 1) with 53 bits from two words.
fn unit_f64(hi: u32, lo: u32) -> f64 {
    (((hi as u64) << 21) ^ (lo as u64 >> 11)) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// `count` positions (axis 0 first, interleaved), in f64.
pub fn sample(density: &InitialDensity, grid: &Grid, count: usize, seed: u64) -> Result<Vec<f64>> {
    let d = grid.dim;
    let l = grid.half_width;
    let mut out = vec![0.0; count * d];
    match density {
        InitialDensity::GaussianMixture { centres, std_devs, weights } => {
            let total: f64 = weights.iter().sum();
            let cumulative: Vec<f64> = weights
                .iter()
                .scan(0.0, |acc, w| {
                    *acc += w / total;
                    Some(*acc)
                })
                .collect();
            for (id, p) in out.chunks_exact_mut(d).enumerate() {
                let mut accepted = false;
                // rejection of samples outside the box (the grid density is restricted to it)
                for draw in 0..10_000u32 {
                    let u = rng::uniform_u32x4(seed, id as u32, INIT_STEP, draw);
                    let pick = unit_f64(u[0], u[1]);
                    let k = cumulative.iter().position(|&c| pick < c).unwrap_or(cumulative.len() - 1);
                    let z = rng::box_muller(u[2], u[3]);
                    for (a, x) in p.iter_mut().enumerate() {
                        *x = centres[k][a] + std_devs[k] * z[a] as f64;
                    }
                    if p.iter().all(|x| x.abs() <= l) {
                        accepted = true;
                        break;
                    }
                }
                if !accepted {
                    return Err(Error::Numerics(format!(
                        "particle {id}: no sample of the initial mixture inside the box in 10000 draws"
                    )));
                }
            }
        }
        _ => return Ok(sample_cells(&density.on_grid(grid, 1.0)?, grid, count, seed)),
    }
    Ok(out)
}

/// `count` positions drawn from the cell values `f` (≥ 0, not all zero) on `grid`: a cell
/// by inverse CDF of the cell masses, then uniform inside it.
pub fn sample_cells(f: &[f64], grid: &Grid, count: usize, seed: u64) -> Vec<f64> {
    let d = grid.dim;
    let l = grid.half_width;
    let mut out = vec![0.0; count * d];
    let mut cumulative = Vec::with_capacity(f.len());
    let mut acc = 0.0;
    for v in f {
        acc += v.max(0.0);
        cumulative.push(acc);
    }
    let h = grid.h();
    for (id, p) in out.chunks_exact_mut(d).enumerate() {
        let u = rng::uniform_u32x4(seed, id as u32, INIT_STEP, 0);
        let target = unit_f64(u[0], u[1]) * acc;
        let cell = cumulative.partition_point(|&c| c <= target).min(f.len() - 1);
        let v = rng::uniform_u32x4(seed, id as u32, INIT_STEP, 1);
        let index = if d == 1 { [cell, 0] } else { [cell / grid.cells, cell % grid.cells] };
        for (a, x) in p.iter_mut().enumerate() {
            let offset = unit_f64(v[2 * a], v[2 * a + 1]);
            *x = -l + (index[a] as f64 + offset) * h;
        }
    }
    out
}
