//! The backward Fokker–Planck equation of the samplers on the grid (MATH.md §4):
//!
//!   ∂τ ρ = ε D Δρ − ∇·(ρ b),   b = λ x + (1 + ε) D s(T − τ, x),
//!
//! (for the heat equation with D = 1: ∂τ ρ = εΔρ − (1 + ε)∇·(ρ s)) with the exact score of
//! the point cloud, on the finite-volume step of the reverse solver (`reverse::pde`:
//! upwind transport, diffusion stencil, zero-flux walls, positive under its bound). The
//! score is costly, so b is frozen on sub-intervals log-spaced in t (at their geometric
//! midpoints) and the step is repeated under the positivity bound within each.

use super::sampler::{log_times, Start};
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::model::score::{self, LinearProcess, PointCloud, MAX_DIM};
use crate::model::ModelParams;
use crate::reverse::pde::ReversePde;

/// Sub-intervals of frozen velocity between two consecutive output times.
pub const REFRESH_PER_INTERVAL: usize = 24;

/// u(t) at the cell centres, normalised to mass 1 on the grid.
pub fn exact_on_grid(process: &LinearProcess, cloud: &PointCloud, grid: &Grid, t: f64) -> Vec<f64> {
    use rayon::prelude::*;
    let mut u: Vec<f64> = (0..grid.len())
        .into_par_iter()
        .map(|i| score::log_density(process, cloud, t, &grid.cell_point(i)).exp())
        .collect();
    normalise(&mut u, grid);
    u
}

fn normalise(f: &mut [f64], grid: &Grid) {
    let mass: f64 = f.iter().sum::<f64>() * grid.cell_volume();
    if mass > 0.0 {
        f.iter_mut().for_each(|v| *v /= mass);
    }
}

/// The starting density at T: u(T), or the Gaussian N(0, σ²(T) I) the samplers start from.
pub fn start_density(
    process: &LinearProcess,
    cloud: &PointCloud,
    grid: &Grid,
    start: Start,
    t_final: f64,
) -> Vec<f64> {
    match start {
        Start::Exact => exact_on_grid(process, cloud, grid, t_final),
        Start::Gaussian => {
            let var = process.variance(t_final);
            let mut f: Vec<f64> = (0..grid.len())
                .map(|i| (-grid.cell_point(i).iter().map(|x| x * x).sum::<f64>() / (2.0 * var)).exp())
                .collect();
            normalise(&mut f, grid);
            f
        }
    }
}

/// ρ at each of `times` (descending from T), from ρ(T) = `rho`, calling `progress(times
/// reached, time)`. Returns the steps taken.
#[allow(clippy::too_many_arguments)]
pub fn solve(
    process: &LinearProcess,
    cloud: &PointCloud,
    grid: &Grid,
    epsilon: f64,
    safety: f64,
    times: &[f64],
    rho: Vec<f64>,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<(Vec<Vec<f64>>, u64)> {
    let diffusion = process.diffusion;
    let none = ModelParams { lambda: 0.0, beta: 0.0, gamma: 1.0, diffusion: 0.0 };
    let mut pde = ReversePde::new(grid, &none, epsilon * diffusion, 0.0);
    let mut out = vec![rho.clone()];
    let mut g = rho;
    let mut next = vec![0.0; g.len()];
    let mut steps = 0u64;
    for (k, pair) in times.windows(2).enumerate() {
        let sub = log_times(pair[0], pair[1], REFRESH_PER_INTERVAL);
        for w in sub.windows(2) {
            let t_mid = (w[0] * w[1]).sqrt();
            pde.set_velocities(|x, axis| {
                let mut s = [0.0; MAX_DIM];
                score::score(process, cloud, t_mid, x, &mut s);
                process.lambda * x[axis] + (1.0 + epsilon) * diffusion * s[axis]
            });
            let span = w[0] - w[1];
            let count = (span / (safety * pde.bound())).ceil().max(1.0);
            if count > 1e9 {
                return Err(Error::Numerics(format!(
                    "the backward Fokker–Planck step collapsed at t = {t_mid:e} ({count:e} steps): use a coarser grid or a larger t"
                )));
            }
            let dt = span / count;
            for _ in 0..count as u64 {
                pde.step(&g, dt, &mut next);
                std::mem::swap(&mut g, &mut next);
            }
            steps += count as u64;
        }
        out.push(g.clone());
        progress(k + 1, times[k + 1]);
    }
    Ok((out, steps))
}

/// ‖f‖_p on the grid (p = ∞ for `None`).
pub fn norm(f: &[f64], grid: &Grid, p: Option<f64>) -> f64 {
    match p {
        None => f.iter().map(|v| v.abs()).fold(0.0, f64::max),
        Some(p) => (f.iter().map(|v| v.abs().powf(p)).sum::<f64>() * grid.cell_volume()).powf(1.0 / p),
    }
}

/// KL(ρ ‖ u) = ∫ ρ ln(ρ/u) on the grid (cells where ρ = 0 add nothing).
pub fn kl(rho: &[f64], u: &[f64], grid: &Grid) -> f64 {
    rho.iter()
        .zip(u)
        .filter(|(r, _)| **r > 0.0)
        .map(|(r, q)| r * (r / q.max(f64::MIN_POSITIVE)).ln())
        .sum::<f64>()
        * grid.cell_volume()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From ρ(T) = u(T) the backward equation carries u: ρ(t) stays close to u(t) (first
    /// order in h: the upwind scheme), keeps mass and stays positive; halving h halves the
    /// error.
    #[test]
    fn backward_equation_carries_the_exact_density() {
        let process = LinearProcess { lambda: 0.0, diffusion: 1.0 };
        let cloud = PointCloud::new(1, vec![-2.0, 1.5], Some(&[0.6, 0.4])).unwrap();
        let mut errors = Vec::new();
        for cells in [200, 400] {
            let grid = Grid::new(1, cells, 8.0).unwrap();
            let times = [1.0, 0.5, 0.2];
            let rho = exact_on_grid(&process, &cloud, &grid, 1.0);
            let (out, _) = solve(&process, &cloud, &grid, 0.5, 0.9, &times, rho, &mut |_, _| {}).unwrap();
            let last = out.last().unwrap();
            let u = exact_on_grid(&process, &cloud, &grid, 0.2);
            let l1: f64 = last.iter().zip(&u).map(|(a, b)| (a - b).abs()).sum::<f64>() * grid.cell_volume();
            let mass: f64 = last.iter().sum::<f64>() * grid.cell_volume();
            assert!((mass - 1.0).abs() < 1e-12, "mass {mass}");
            assert!(last.iter().all(|v| *v >= 0.0));
            errors.push(l1);
        }
        eprintln!("L1 to u(0.2): {errors:?}");
        assert!(errors[0] < 0.05, "{errors:?}");
        let order = (errors[0] / errors[1]).log2();
        assert!(order > 0.8, "order {order} ({errors:?})");
    }
}
