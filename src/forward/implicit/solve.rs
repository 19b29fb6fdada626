//! Newton's linear systems J δ = r on the grid's stencil: the Thomas algorithm in 1D, a
//! sparse LU (faer; COLAMD ordering, the symbolic analysis done once per grid) in 2D.
//! A factorisation is kept until the next `factor`, so Newton can reuse it (chord steps).
//!
//! Thomas needs no pivoting: J's columns sum to a₀ > 0 with the off-diagonals ≤ 0, so J is
//! diagonally dominant by columns.

use faer::linalg::solvers::Solve;
use faer::sparse::linalg::solvers::{Lu, SymbolicLu};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};

use super::system::Stencil;
use crate::error::{Error, Result};

pub enum LinearSolver {
    Tridiagonal(Thomas),
    Sparse(Box<SparseLu>),
}

impl LinearSolver {
    pub fn new(stencil: &Stencil) -> Result<Self> {
        Ok(if stencil.strides.len() == 1 {
            LinearSolver::Tridiagonal(Thomas::new(stencil.diag.len()))
        } else {
            LinearSolver::Sparse(Box::new(SparseLu::new(stencil)?))
        })
    }

    /// Factor J (false: singular or not finite).
    pub fn factor(&mut self, j: &Stencil) -> bool {
        match self {
            LinearSolver::Tridiagonal(t) => t.factor(j),
            LinearSolver::Sparse(s) => s.factor(j),
        }
    }

    /// r ← J⁻¹ r with the last factorisation (false: a non-finite result).
    pub fn solve(&self, r: &mut [f64]) -> bool {
        match self {
            LinearSolver::Tridiagonal(t) => t.solve(r),
            LinearSolver::Sparse(s) => s.solve(r),
        }
        r.iter().all(|v| v.is_finite())
    }
}

/// LU of a tridiagonal matrix: the eliminated diagonal and the scaled upper diagonal.
pub struct Thomas {
    lower: Vec<f64>,
    pivot: Vec<f64>,
    upper_scaled: Vec<f64>,
}

impl Thomas {
    fn new(n: usize) -> Self {
        Self { lower: vec![0.0; n], pivot: vec![0.0; n], upper_scaled: vec![0.0; n] }
    }

    fn factor(&mut self, j: &Stencil) -> bool {
        let (a, b, c) = (&j.lower[0], &j.diag, &j.upper[0]);
        let mut previous = 0.0;
        for i in 0..b.len() {
            let pivot = b[i] - a[i] * previous;
            if pivot == 0.0 || !pivot.is_finite() {
                return false;
            }
            self.pivot[i] = pivot;
            self.upper_scaled[i] = c[i] / pivot;
            previous = self.upper_scaled[i];
        }
        self.lower.copy_from_slice(a);
        true
    }

    fn solve(&self, d: &mut [f64]) {
        let n = d.len();
        let mut previous = 0.0;
        for ((di, lower), pivot) in d.iter_mut().zip(&self.lower).zip(&self.pivot) {
            *di = (*di - lower * previous) / pivot;
            previous = *di;
        }
        for i in (0..n.saturating_sub(1)).rev() {
            d[i] -= self.upper_scaled[i] * d[i + 1];
        }
    }
}

/// The stencil as a compressed-column matrix (rows ascending in each column) and its LU.
pub struct SparseLu {
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    values: Vec<f64>,
    symbolic: SymbolicLu<usize>,
    lu: Option<Lu<usize, f64>>,
}

impl SparseLu {
    fn new(j: &Stencil) -> Result<Self> {
        let len = j.diag.len();
        let mut col_ptr = Vec::with_capacity(len + 1);
        let mut row_idx = Vec::with_capacity(len * (2 * j.strides.len() + 1));
        col_ptr.push(0);
        for col in 0..len {
            for_column(j, col, |row, _| row_idx.push(row));
            col_ptr.push(row_idx.len());
        }
        let values = vec![0.0; row_idx.len()];
        let pattern = SymbolicSparseColMatRef::new_checked(len, len, &col_ptr, None, &row_idx);
        let symbolic = SymbolicLu::try_new(pattern)
            .map_err(|e| Error::Numerics(format!("sparse LU analysis of the implicit step failed: {e:?}")))?;
        Ok(Self { col_ptr, row_idx, values, symbolic, lu: None })
    }

    fn factor(&mut self, j: &Stencil) -> bool {
        let mut k = 0;
        for col in 0..j.diag.len() {
            for_column(j, col, |_, v| {
                self.values[k] = v;
                k += 1;
            });
        }
        if !self.values.iter().all(|v| v.is_finite()) {
            return false;
        }
        let len = j.diag.len();
        let pattern = SymbolicSparseColMatRef::new_checked(len, len, &self.col_ptr, None, &self.row_idx);
        let matrix = SparseColMatRef::new(pattern, &self.values);
        self.lu = Lu::try_new_with_symbolic(self.symbolic.clone(), matrix).ok();
        self.lu.is_some()
    }

    fn solve(&self, r: &mut [f64]) {
        if let Some(lu) = &self.lu {
            lu.solve_in_place(faer::ColMut::from_slice_mut(r));
        } else {
            r.fill(f64::NAN);
        }
    }
}

/// The entries of column `col` of the stencil matrix, rows ascending: J[col − s][col] =
/// upper(s)[col − s] for the strides s descending, the diagonal, then J[col + s][col] =
/// lower(s)[col + s] for the strides ascending.
fn for_column(j: &Stencil, col: usize, mut entry: impl FnMut(usize, f64)) {
    let axes = j.strides.len();
    // strides are stored descending (2D: [N, 1])
    for a in 0..axes {
        let s = j.strides[a];
        if col >= s && j.has_next(col - s, s) {
            entry(col - s, j.upper[a][col - s]);
        }
    }
    entry(col, j.diag[col]);
    for a in (0..axes).rev() {
        let s = j.strides[a];
        if j.has_next(col, s) {
            entry(col + s, j.lower[a][col + s]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Grid;

    /// A non-symmetric stencil matrix with columns summing to 1 (like Newton's J).
    fn stencil(dim: usize, n: usize) -> Stencil {
        let grid = Grid::new(dim, n, 1.0).unwrap();
        let mut j = Stencil::new(&grid);
        for a in 0..j.strides.len() {
            let s = j.strides[a];
            for l in 0..j.diag.len() {
                if j.has_next(l, s) {
                    let (out, back) = (0.3 + 0.01 * (l % 7) as f64, 0.2 + 0.02 * (l % 5) as f64);
                    // column l loses `out` to row l + s, column l + s loses `back` to row l
                    j.lower[a][l + s] -= out;
                    j.upper[a][l] -= back;
                    j.diag[l] += out;
                    j.diag[l + s] += back;
                }
            }
        }
        for d in &mut j.diag {
            *d += 1.0;
        }
        j
    }

    fn multiply(j: &Stencil, x: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; x.len()];
        for (col, &xc) in x.iter().enumerate() {
            for_column(j, col, |row, v| y[row] += v * xc);
        }
        y
    }

    /// Both solvers return x with J x = b to round-off, on 1D and 2D stencils.
    #[test]
    fn solvers_invert_the_stencil() {
        for (dim, n) in [(1, 37), (2, 9), (2, 10)] {
            let j = stencil(dim, n);
            let x: Vec<f64> = (0..j.diag.len()).map(|i| ((i * 13) % 11) as f64 - 4.0).collect();
            let mut r = multiply(&j, &x);
            let mut solver = LinearSolver::new(&j).unwrap();
            assert!(solver.factor(&j));
            assert!(solver.solve(&mut r));
            let err = r.iter().zip(&x).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(err < 1e-12, "dim {dim}, n {n}: error {err:e}");
            // the columns sum to 1, so Σ J⁻¹ b = Σ b
            let b = multiply(&j, &x);
            let (sum_b, sum_x): (f64, f64) = (b.iter().sum(), x.iter().sum());
            assert!((sum_b - sum_x).abs() < 1e-10, "{sum_b} vs {sum_x}");
        }
    }
}
