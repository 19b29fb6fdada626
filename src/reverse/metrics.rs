//! Distances between two densities on the same grid (generation and filtering reports).
//! All take cell values and integrate with the cell volume h^d.

use serde::Serialize;

use crate::grid::Grid;

/// The comparison of a reconstruction g with a reference f.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Comparison {
    /// ∫|g − f|
    pub l1: f64,
    /// ∫|g − f| / ∫f
    pub rel_l1: f64,
    /// KL(f‖g) = ∫ f ln(f/g) of the two densities normalised to mass 1; g is floored at
    /// `kl_floor` where f > 0 and g = 0 (so a support mismatch gives a large finite value).
    pub kl: f64,
    pub kl_floor: f64,
    /// W1 of the normalised densities: exact (CDFs) in 1D, sliced in 2D.
    pub w1: f64,
    /// "exact-cdf" in 1D; "sliced" in 2D, over `w1_directions` equally spaced angles.
    pub w1_kind: &'static str,
    pub w1_directions: usize,
}

pub const KL_FLOOR: f64 = 1e-300;

pub fn compare(grid: &Grid, reference: &[f64], g: &[f64], directions: usize) -> Comparison {
    let vol = grid.cell_volume();
    let l1 = reference.iter().zip(g).map(|(a, b)| (a - b).abs()).sum::<f64>() * vol;
    let mass = reference.iter().sum::<f64>() * vol;
    let (w1, w1_kind, w1_directions) = if grid.dim == 1 {
        (w1_1d(grid, reference, g), "exact-cdf", 1)
    } else {
        (sliced_w1(grid, reference, g, directions), "sliced", directions)
    };
    Comparison {
        l1,
        rel_l1: l1 / mass,
        kl: kl(grid, reference, g),
        kl_floor: KL_FLOOR,
        w1,
        w1_kind,
        w1_directions,
    }
}

fn normalised(grid: &Grid, f: &[f64]) -> Vec<f64> {
    let total: f64 = f.iter().sum::<f64>() * grid.cell_volume();
    f.iter().map(|v| v / total).collect()
}

/// KL(f‖g) of the normalised densities.
pub fn kl(grid: &Grid, f: &[f64], g: &[f64]) -> f64 {
    let (p, q) = (normalised(grid, f), normalised(grid, g));
    p.iter().zip(&q).filter(|(a, _)| **a > 0.0).map(|(a, b)| a * (a / b.max(KL_FLOOR)).ln()).sum::<f64>()
        * grid.cell_volume()
}

/// W1 between the two normalised densities placed at the cell centres x_i (weights f_i h):
/// ∫|F − G| dx with the CDFs between consecutive centres.
pub fn w1_1d(grid: &Grid, f: &[f64], g: &[f64]) -> f64 {
    let (p, q) = (normalised(grid, f), normalised(grid, g));
    let h = grid.h();
    let mut cdf_gap = 0.0;
    let mut w = 0.0;
    for i in 0..p.len().saturating_sub(1) {
        cdf_gap += (p[i] - q[i]) * h;
        w += cdf_gap.abs() * h;
    }
    w
}

/// Sliced W1 in 2D: the mean over `directions` angles θ_k = πk/K of the exact W1 between
/// the projections x·θ of the two discrete measures (cell centres, weights f h²).
pub fn sliced_w1(grid: &Grid, f: &[f64], g: &[f64], directions: usize) -> f64 {
    let (p, q) = (normalised(grid, f), normalised(grid, g));
    let vol = grid.cell_volume();
    let n = grid.cells;
    let centres = grid.centres();
    let mut order: Vec<usize> = (0..p.len()).collect();
    let mut proj = vec![0.0; p.len()];
    let mut total = 0.0;
    for k in 0..directions {
        let theta = std::f64::consts::PI * k as f64 / directions as f64;
        let (s, c) = theta.sin_cos();
        for (i, v) in proj.iter_mut().enumerate() {
            // row index = axis 0 (y), column = axis 1 (x)
            *v = c * centres[i % n] + s * centres[i / n];
        }
        order.sort_unstable_by(|&a, &b| proj[a].total_cmp(&proj[b]));
        let mut cdf_gap = 0.0;
        let mut w = 0.0;
        for pair in order.windows(2) {
            cdf_gap += (p[pair[0]] - q[pair[0]]) * vol;
            w += cdf_gap.abs() * (proj[pair[1]] - proj[pair[0]]);
        }
        total += w;
    }
    total / directions.max(1) as f64
}

/// Total variation ∫|∇f| (forward differences, summed over axes).
pub fn total_variation(grid: &Grid, f: &[f64]) -> f64 {
    let n = grid.cells;
    let h = grid.h();
    let mut tv = 0.0;
    for i in 0..f.len() {
        let j = i % n;
        if j + 1 < n {
            tv += (f[i + 1] - f[i]).abs();
        }
        if grid.dim == 2 && i + n < f.len() {
            tv += (f[i + n] - f[i]).abs();
        }
    }
    // ∫|∂f| ≈ Σ |Δf|/h · h^d
    tv * grid.cell_volume() / h
}

/// Shannon entropy −∫ f ln f (f > 0 cells).
pub fn shannon_entropy(grid: &Grid, f: &[f64]) -> f64 {
    -f.iter().filter(|v| **v > 0.0).map(|v| v * v.ln()).sum::<f64>() * grid.cell_volume()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaussian(grid: &Grid, mean: f64, sd: f64) -> Vec<f64> {
        let n = grid.cells;
        (0..grid.len())
            .map(|i| {
                let x = grid.centre(i % n) - mean;
                let y = if grid.dim == 2 { grid.centre(i / n) } else { 0.0 };
                (-(x * x + y * y) / (2.0 * sd * sd)).exp()
            })
            .collect()
    }

    /// W1 between a density and its translate by a is |a|: exact on the grid for a shift by
    /// whole cells (1D), and for every direction's projection (sliced: the mean of
    /// |a cos θ| over θ ∈ [0, π) is 2|a|/π).
    #[test]
    fn w1_of_a_translate() {
        let grid = Grid::new(1, 400, 10.0).unwrap();
        let a = 10.0 * grid.h();
        let w = w1_1d(&grid, &gaussian(&grid, 0.0, 1.0), &gaussian(&grid, a, 1.0));
        assert!((w - a).abs() < 1e-9 * a, "{w} vs {a}");

        let grid = Grid::new(2, 200, 8.0).unwrap();
        let a = 10.0 * grid.h();
        let k = 256;
        let w = sliced_w1(&grid, &gaussian(&grid, 0.0, 1.0), &gaussian(&grid, a, 1.0), k);
        // the K-point midpoint rule for the mean of |cos θ| is exact to O(1/K²)
        let expected = 2.0 * a / std::f64::consts::PI;
        assert!((w - expected).abs() < 1e-3 * expected, "{w} vs {expected}");
    }

    /// KL of two Gaussians with equal variance: (μ₁ − μ₂)²/(2σ²); L1 and KL of equal
    /// densities are zero.
    #[test]
    fn kl_of_shifted_gaussians() {
        let grid = Grid::new(1, 801, 12.0).unwrap();
        let (f, g) = (gaussian(&grid, 0.0, 1.0), gaussian(&grid, 0.5, 1.0));
        let v = kl(&grid, &f, &g);
        assert!((v - 0.125).abs() < 1e-6, "{v}");
        let c = compare(&grid, &f, &f, 1);
        assert_eq!((c.l1, c.kl, c.w1), (0.0, 0.0, 0.0));
    }

    /// TV of a unit box is 2 × height in 1D; the entropy of a uniform density on [0, 1] is 0.
    #[test]
    fn total_variation_and_entropy_of_a_box() {
        let grid = Grid::new(1, 100, 1.0).unwrap();
        let f: Vec<f64> = (0..100).map(|i| if (25..75).contains(&i) { 1.0 } else { 0.0 }).collect();
        assert!((total_variation(&grid, &f) - 2.0).abs() < 1e-12);
        assert!(shannon_entropy(&grid, &f).abs() < 1e-12);
    }
}
