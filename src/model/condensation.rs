//! Condensation measured without a density threshold (docs/MATH.md §2f).
//!
//! On a grid the origin cell holds, at the discrete steady state of the critical mass M_c,
//! a regular part r_h: the mass the critical profile f_{θ=0} ~ |x|^{−2/γ} puts there (it
//! tends to 0 with h). The condensate is what the origin cell holds beyond it,
//! m_c(t) = m_origin(t) − r_h, which tends to M − M_c at the end of a supercritical run,
//! and the blow-up time is the first time the origin cell holds more than r_h: the density
//! at the origin has passed the critical profile, the discrete form of the blow-up
//! criterion. Both are model quantities, and both converge as h → 0 (`fpgen study blowup`
//! measures the order).

use super::equilibrium;
use super::ModelParams;
use crate::grid::Grid;

/// r_h: the origin-cell mass of the discrete steady state of mass M_c on `grid` (None
/// when the model has no finite critical mass). The profile depends on |x|² alone, so the
/// discrete mass is summed over each distinct |x|² once, times its number of cells: 1/8
/// of the cells in 2D (a 2049² grid in about a second).
pub fn regular_origin_mass(p: &ModelParams, grid: &Grid) -> Option<f64> {
    use rayon::prelude::*;
    let critical = equilibrium::critical_mass(p, grid.dim, Some(grid.half_width))?;
    let n = grid.cells;
    // |x| along an axis from the centre out, with the cells at ± each
    let axis: Vec<(f64, f64)> =
        (n / 2..n).map(|i| (grid.centre(i), if n % 2 == 1 && i == n / 2 { 1.0 } else { 2.0 })).collect();
    let shells: Vec<(f64, f64)> = match grid.dim {
        1 => axis.iter().map(|&(x, c)| (x * x, c)).collect(),
        _ => (0..axis.len())
            .flat_map(|a| (a..axis.len()).map(move |b| (a, b)))
            .map(|(a, b)| {
                let ((xa, ca), (xb, cb)) = (axis[a], axis[b]);
                (xa * xa + xb * xb, ca * cb * if a == b { 1.0 } else { 2.0 })
            })
            .collect(),
    };
    let volume = grid.cell_volume();
    // summed in order (a parallel sum's rounding depends on rayon's split)
    let mass = |theta: f64| {
        let terms: Vec<f64> =
            shells.par_iter().map(|&(r2, c)| c * equilibrium::profile(p, theta, r2)).collect();
        terms.iter().sum::<f64>() * volume
    };
    let theta = equilibrium::solve_decreasing(critical, mass);
    // the origin cells are the innermost shell
    let (r2, count) = shells[0];
    Some(count * equilibrium::profile(p, theta, r2) * volume)
}

/// A run's condensation, measured without a density threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Condensation {
    /// r_h: the critical profile's origin-cell mass on the grid.
    pub regular_origin_mass: f64,
    /// The first time the origin cell held more than r_h (None: it never did).
    pub blowup_time: Option<f64>,
    /// The last origin-cell mass less r_h.
    pub condensate_mass: f64,
}

impl Condensation {
    /// From the origin-cell mass `origin[k]` at times `t[k]` (None when the model has no
    /// finite critical mass, or no sample).
    pub fn measure(p: &ModelParams, grid: &Grid, t: &[f64], origin: &[f64]) -> Option<Self> {
        let last = *origin.last()?;
        let regular = regular_origin_mass(p, grid)?;
        Some(Self {
            regular_origin_mass: regular,
            blowup_time: blowup_time(t, origin, regular),
            condensate_mass: last - regular,
        })
    }
}

/// The exponent p of f ~ |x|^p near the origin: the least-squares slope of ln f against
/// ln |x| over the cells on the axes through the origin cell (both sides, each axis) with
/// 2h ≤ |x| ≤ R, R = ¼ √(2D/λ). There the critical profile's power law holds to 2 %:
/// f_{θ=0} = |x|^{−2/γ} (γλ/2D)^{−1/γ} β^{−1/γ} (1 + O(λ|x|²/D)), and its fitted slope is
/// −2/γ (1 + 0.016) for γ = 3, (1 + 0.010) for γ = 2. At the blow-up time p tends to −2/γ;
/// a smooth density has p ≈ 0. None with fewer than three such
/// cells, an even N (no centred cell), or a cell with f ≤ 0.
pub fn profile_exponent(p: &ModelParams, grid: &Grid, f: &[f64]) -> Option<f64> {
    let n = grid.cells;
    if n % 2 == 0 || f.len() != grid.len() {
        return None;
    }
    let (c, h) = (n / 2, grid.h());
    let reach = 0.25 * (2.0 * p.diffusion / p.lambda).sqrt();
    let stride = if grid.dim == 1 { vec![1] } else { vec![n, 1] };
    let origin = if grid.dim == 1 { c } else { c * n + c };
    let (mut sx, mut sy, mut sxx, mut sxy, mut count) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for k in 2..=c {
        let r = k as f64 * h;
        if r > reach {
            break;
        }
        for &s in &stride {
            for cell in [origin - k * s, origin + k * s] {
                if f[cell] <= 0.0 {
                    return None;
                }
                let (x, y) = (r.ln(), f[cell].ln());
                sx += x;
                sy += y;
                sxx += x * x;
                sxy += x * y;
                count += 1.0;
            }
        }
    }
    if count < 3.0 {
        return None;
    }
    let slope = (count * sxy - sx * sy) / (count * sxx - sx * sx);
    slope.is_finite().then_some(slope)
}

/// The first time the origin-cell mass `origin[k]` at times `t[k]` reaches `regular`,
/// interpolated linearly between the two samples around it (None: never).
pub fn blowup_time(t: &[f64], origin: &[f64], regular: f64) -> Option<f64> {
    let k = origin.iter().position(|&m| m >= regular)?;
    if k == 0 {
        return Some(t[0]);
    }
    let (m0, m1) = (origin[k - 1], origin[k]);
    Some(t[k - 1] + (t[k] - t[k - 1]) * (regular - m0) / (m1 - m0))
}

/// Richardson extrapolation of values `q[i]` computed at mesh sizes `h[i]` (decreasing,
/// three of them): the observed order p with |q1 − q2| / |q2 − q3| = (h1^p − h2^p) /
/// (h2^p − h3^p), and q* = q3 − (q2 − q3) h3^p / (h2^p − h3^p). None when the differences
/// do not shrink (no order in (0.05, 8)).
pub fn richardson(h: [f64; 3], q: [f64; 3]) -> Option<(f64, f64)> {
    let (d12, d23) = (q[0] - q[1], q[1] - q[2]);
    if d23 == 0.0 || d12 * d23 <= 0.0 {
        return None;
    }
    let target = (d12 / d23).abs();
    let ratio = |p: f64| (h[0].powf(p) - h[1].powf(p)) / (h[1].powf(p) - h[2].powf(p));
    let (mut lo, mut hi) = (0.05, 8.0);
    if (ratio(lo) - target) * (ratio(hi) - target) > 0.0 {
        return None;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if (ratio(lo) - target) * (ratio(mid) - target) <= 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let p = 0.5 * (lo + hi);
    let extrapolated = q[2] - d23 * h[2].powf(p) / (h[1].powf(p) - h[2].powf(p));
    Some((p, extrapolated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn richardson_recovers_order_and_limit() {
        let h = [0.1, 0.05, 0.025];
        let q = h.map(|h: f64| 2.0 + 3.0 * h.powf(1.5));
        let (p, limit) = richardson(h, q).unwrap();
        assert!((p - 1.5).abs() < 1e-9 && (limit - 2.0).abs() < 1e-9, "{p} {limit}");
        // uneven ratios too (odd grids: N = 101, 201, 401)
        let h = [16.0 / 101.0, 16.0 / 201.0, 16.0 / 401.0];
        let q = h.map(|h: f64| -1.0 + 0.5 * h);
        let (p, limit) = richardson(h, q).unwrap();
        assert!((p - 1.0).abs() < 1e-9 && (limit + 1.0).abs() < 1e-9, "{p} {limit}");
        assert!(richardson([0.1, 0.05, 0.025], [1.0, 2.0, 1.0]).is_none());
    }

    #[test]
    fn blowup_time_interpolates_the_crossing() {
        assert_eq!(blowup_time(&[0.0, 1.0, 2.0], &[0.1, 0.3, 0.5], 0.4), Some(1.5));
        assert_eq!(blowup_time(&[0.0, 1.0], &[0.1, 0.2], 0.4), None);
    }

    /// The discrete critical profile has the exponent −2/γ near the origin (to the fit
    /// window's curvature bias, 1–2 %; asked: 3 %), in 1D and 2D; a Gaussian ≈ 0.
    #[test]
    fn profile_exponent_of_the_critical_profile_is_minus_two_over_gamma() {
        for (dim, gamma, cells) in [(1, 3.0, 4001), (2, 2.0, 801)] {
            let p = ModelParams::bose(1.0, 1.0, gamma, 1.0);
            let grid = Grid::new(dim, cells, 6.0).unwrap();
            let critical = equilibrium::critical_mass(&p, dim, Some(6.0)).unwrap();
            let (_, steady) = equilibrium::grid_profile(&p, &grid, critical);
            let exponent = profile_exponent(&p, &grid, &steady).unwrap();
            assert!((exponent + 2.0 / gamma).abs() <= 0.03 * 2.0 / gamma, "{dim}D γ = {gamma}: {exponent}");
            let gaussian: Vec<f64> = (0..grid.len()).map(|i| (-grid.radius_squared(i) / 2.0).exp()).collect();
            let flat = profile_exponent(&p, &grid, &gaussian).unwrap();
            assert!(flat.abs() < 0.1, "{dim}D Gaussian: {flat}");
        }
    }

    /// The shell sum gives the origin-cell mass of `grid_profile`'s cell-by-cell steady
    /// state (to the sums' rounding), odd and even N, 1D and 2D.
    #[test]
    fn regular_origin_mass_is_that_of_the_grid_profile() {
        for (dim, gamma, cells) in [(1, 3.0, 301), (1, 3.0, 300), (2, 2.0, 129), (2, 2.0, 128)] {
            let p = ModelParams::bose(1.0, 1.0, gamma, 1.0);
            let grid = Grid::new(dim, cells, 6.0).unwrap();
            let critical = equilibrium::critical_mass(&p, dim, Some(6.0)).unwrap();
            let (_, steady) = equilibrium::grid_profile(&p, &grid, critical);
            let direct: f64 =
                grid.origin_cells().iter().map(|&i| steady[i]).sum::<f64>() * grid.cell_volume();
            let shells = regular_origin_mass(&p, &grid).unwrap();
            assert!((shells - direct).abs() <= 1e-9 * direct, "{dim}D N = {cells}: {shells} vs {direct}");
        }
    }

    /// r_h shrinks with h (the regular part of the origin cell goes to 0); 1D, γ = 3.
    #[test]
    fn regular_origin_mass_vanishes_with_h() {
        let p = ModelParams::bose(1.0, 1.0, 3.0, 1.0);
        let r: Vec<f64> = [101, 401, 1601]
            .iter()
            .map(|&n| regular_origin_mass(&p, &Grid::new(1, n, 8.0).unwrap()).unwrap())
            .collect();
        assert!(r[0] > r[1] && r[1] > r[2] && r[2] > 0.0, "{r:?}");
    }
}
