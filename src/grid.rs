//! Geometry of the cell-centred grid on the box [-L, L]^d.
//!
//! Flat index of cell (i0, i1) in 2D is `i0 * N + i1`: axis 0 is x, axis 1 is y, so
//! a saved array `f[ix, iy]` loads in NumPy with the same index order.

use crate::error::ConfigError;

/// The most cells a grid may have (2^31: indices stay within u32 everywhere).
pub const MAX_CELLS: u64 = 1 << 31;

#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub dim: usize,
    pub cells: usize,
    pub half_width: f64,
}

impl Grid {
    pub fn new(dim: usize, cells: usize, half_width: f64) -> Result<Self, ConfigError> {
        if dim != 1 && dim != 2 {
            return Err(ConfigError::new("model.dim", format!("must be 1 or 2 (got {dim})")));
        }
        if cells < 3 {
            return Err(ConfigError::new("grid.cells", format!("must be at least 3 (got {cells})")));
        }
        // cell indices are u32 on the device and N^d must not wrap
        if (cells as u128).pow(dim as u32) > MAX_CELLS as u128 {
            return Err(ConfigError::new(
                "grid.cells",
                format!("{cells}^{dim} cells is more than the {MAX_CELLS} a grid may have"),
            ));
        }
        if !(half_width.is_finite() && half_width > 0.0) {
            return Err(ConfigError::new(
                "grid.half_width",
                format!("must be a positive number (got {half_width})"),
            ));
        }
        Ok(Self { dim, cells, half_width })
    }

    /// Cell width h = 2L/N.
    pub fn h(&self) -> f64 {
        2.0 * self.half_width / self.cells as f64
    }

    /// Cell volume h^d.
    pub fn cell_volume(&self) -> f64 {
        self.h().powi(self.dim as i32)
    }

    /// Total number of cells N^d.
    pub fn len(&self) -> usize {
        self.cells.pow(self.dim as u32)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Array shape: [N] or [N, N].
    pub fn shape(&self) -> Vec<usize> {
        vec![self.cells; self.dim]
    }

    /// Centre of cell i along one axis: -L + (i + 1/2) h.
    pub fn centre(&self, i: usize) -> f64 {
        -self.half_width + (i as f64 + 0.5) * self.h()
    }

    /// Position of face k (k = 0..=N) along one axis: -L + k h.
    pub fn face(&self, k: usize) -> f64 {
        -self.half_width + k as f64 * self.h()
    }

    /// Centre of cell `idx` (flat index [ix, iy]), axis 0 first.
    pub fn cell_point(&self, idx: usize) -> Vec<f64> {
        if self.dim == 1 {
            vec![self.centre(idx)]
        } else {
            vec![self.centre(idx / self.cells), self.centre(idx % self.cells)]
        }
    }

    /// Cell-centre coordinates along one axis.
    pub fn centres(&self) -> Vec<f64> {
        (0..self.cells).map(|i| self.centre(i)).collect()
    }

    /// |x|² at the centre of the cell with flat index `idx`.
    pub fn radius_squared(&self, idx: usize) -> f64 {
        match self.dim {
            1 => self.centre(idx).powi(2),
            _ => {
                let (i0, i1) = (idx / self.cells, idx % self.cells);
                self.centre(i0).powi(2) + self.centre(i1).powi(2)
            }
        }
    }

    /// The cells that hold a condensate at the origin: one cell when N is odd, the
    /// 2^d cells touching the origin when N is even.
    pub fn origin_cells(&self) -> Vec<usize> {
        let n = self.cells;
        let axis: Vec<usize> = if n % 2 == 1 { vec![n / 2] } else { vec![n / 2 - 1, n / 2] };
        match self.dim {
            1 => axis,
            _ => axis.iter().flat_map(|&i| axis.iter().map(move |&j| i * n + j)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_grid_has_a_cell_centred_at_origin() {
        let g = Grid::new(2, 5, 1.0).unwrap();
        assert_eq!(g.origin_cells(), vec![12]);
        assert_eq!(g.radius_squared(12), 0.0);
        assert!((g.h() - 0.4).abs() < 1e-15);
        assert!((g.face(5) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn even_grid_splits_the_origin_over_four_cells() {
        let g = Grid::new(2, 4, 1.0).unwrap();
        assert_eq!(g.origin_cells(), vec![5, 6, 9, 10]);
        let g1 = Grid::new(1, 4, 1.0).unwrap();
        assert_eq!(g1.origin_cells(), vec![1, 2]);
    }

    #[test]
    fn bad_geometry_names_the_key() {
        assert_eq!(Grid::new(3, 5, 1.0).unwrap_err().key, "model.dim");
        assert_eq!(Grid::new(2, 2, 1.0).unwrap_err().key, "grid.cells");
        assert_eq!(Grid::new(2, 5, -1.0).unwrap_err().key, "grid.half_width");
    }
}
