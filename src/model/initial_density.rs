//! Initial densities on the grid, rescaled to a requested discrete mass.

use crate::error::{ConfigError, Result};
use crate::grid::Grid;

#[derive(Clone, Debug, PartialEq)]
pub enum InitialDensity {
    /// Σ_k w_k N(c_k, σ_k² I), evaluated at cell centres.
    GaussianMixture { centres: Vec<Vec<f64>>, std_devs: Vec<f64>, weights: Vec<f64> },
    /// Constant on the cells whose centre lies in the disc (interval in 1D).
    UniformDisc { centre: Vec<f64>, radius: f64 },
    /// Constant on the cells whose centre lies in [lower, upper] (per axis).
    UniformBox { lower: Vec<f64>, upper: Vec<f64> },
    /// Values on the grid's cells, in its index order (read from a file by the config).
    Values(Vec<f64>),
    /// `base` with each cell multiplied by 1 + amplitude·ξ, ξ uniform in [−1, 1) from the
    /// shared generator (counter: cell index, seed).
    Noisy { base: Box<InitialDensity>, amplitude: f64, seed: u64 },
}

impl InitialDensity {
    /// Unnormalised density on the grid.
    fn shape_on(&self, grid: &Grid) -> Result<Vec<f64>> {
        let pos = |idx: usize| -> [f64; 2] {
            match grid.dim {
                1 => [grid.centre(idx), 0.0],
                _ => [grid.centre(idx / grid.cells), grid.centre(idx % grid.cells)],
            }
        };
        let dist2 = |p: [f64; 2], c: &[f64]| -> f64 {
            c.iter().enumerate().map(|(k, &ck)| (p[k] - ck).powi(2)).sum()
        };
        let d = grid.dim as i32;
        let values = match self {
            InitialDensity::GaussianMixture { centres, std_devs, weights } => (0..grid.len())
                .map(|i| {
                    let p = pos(i);
                    centres
                        .iter()
                        .zip(std_devs)
                        .zip(weights)
                        .map(|((c, &s), &w)| {
                            let norm = (2.0 * std::f64::consts::PI * s * s).powf(0.5 * d as f64);
                            w * (-dist2(p, c) / (2.0 * s * s)).exp() / norm
                        })
                        .sum()
                })
                .collect(),
            InitialDensity::UniformDisc { centre, radius } => (0..grid.len())
                .map(|i| if dist2(pos(i), centre) <= radius * radius { 1.0 } else { 0.0 })
                .collect(),
            InitialDensity::UniformBox { lower, upper } => (0..grid.len())
                .map(|i| {
                    let p = pos(i);
                    let inside = (0..grid.dim).all(|k| p[k] >= lower[k] && p[k] <= upper[k]);
                    if inside {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect(),
            InitialDensity::Values(values) => {
                if values.len() != grid.len() {
                    return Err(ConfigError::new(
                        "initial",
                        format!("{} values given for a grid of {} cells", values.len(), grid.len()),
                    )
                    .into());
                }
                values.clone()
            }
            InitialDensity::Noisy { base, amplitude, seed } => {
                let mut f = base.shape_on(grid)?;
                for (i, v) in f.iter_mut().enumerate() {
                    let u = crate::rng::uniform_u32x4(*seed, i as u32, 0, 0)[0];
                    let xi = 2.0 * (u as f64 / 4_294_967_296.0) - 1.0;
                    *v *= 1.0 + amplitude * xi;
                }
                f
            }
        };
        Ok(values)
    }

    /// The initial field, rescaled so that the discrete mass Σ f h^d equals `mass`.
    pub fn on_grid(&self, grid: &Grid, mass: f64) -> Result<Vec<f64>> {
        let mut f = self.shape_on(grid)?;
        let total: f64 = f.iter().sum::<f64>() * grid.cell_volume();
        if !(total > 0.0 && total.is_finite()) {
            return Err(ConfigError::new(
                "initial",
                format!("the initial density has no mass on the grid (discrete mass {total}); check that it lies inside the box and covers at least one cell centre"),
            )
            .into());
        }
        let scale = mass / total;
        f.iter_mut().for_each(|v| *v *= scale);
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Noise multiplies each cell by a factor in [1 − a, 1 + a), reproducibly per seed.
    #[test]
    fn noisy_density_stays_within_its_amplitude() {
        let g = Grid::new(2, 32, 3.0).unwrap();
        let base = InitialDensity::UniformBox { lower: vec![-3.0, -3.0], upper: vec![3.0, 3.0] };
        let noisy = |seed| InitialDensity::Noisy { base: Box::new(base.clone()), amplitude: 0.3, seed };
        let f = noisy(1).shape_on(&g).unwrap();
        assert!(f.iter().all(|v| (0.7..1.3).contains(v)));
        let spread = f.iter().copied().fold(0.0, f64::max) - f.iter().copied().fold(2.0, f64::min);
        assert!(spread > 0.5, "{spread}");
        assert_eq!(f, noisy(1).shape_on(&g).unwrap());
        assert_ne!(f, noisy(2).shape_on(&g).unwrap());
    }

    #[test]
    fn mixture_is_rescaled_to_the_discrete_mass() {
        let g = Grid::new(2, 41, 4.0).unwrap();
        let init = InitialDensity::GaussianMixture {
            centres: vec![vec![-1.0, 0.0], vec![1.0, 0.5]],
            std_devs: vec![0.5, 0.7],
            weights: vec![1.0, 3.0],
        };
        let f = init.on_grid(&g, 2.5).unwrap();
        let m: f64 = f.iter().sum::<f64>() * g.cell_volume();
        assert!((m - 2.5).abs() < 1e-13);
        assert!(f.iter().all(|&v| v >= 0.0));
    }

    #[test]
    fn disc_outside_the_box_is_an_error() {
        let g = Grid::new(1, 11, 1.0).unwrap();
        let init = InitialDensity::UniformDisc { centre: vec![5.0], radius: 0.5 };
        let err = init.on_grid(&g, 1.0).unwrap_err().to_string();
        assert!(err.contains("`initial`"), "{err}");
    }
}
