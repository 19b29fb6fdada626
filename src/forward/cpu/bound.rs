//! The gradient-flow scheme's step bound (its rate needs the fluxes of the new field, a
//! pass of its own).

use super::schemes::GradientFlow;
use rayon::prelude::*;

use super::sweep::{sweep_rows, RowScratch};
use crate::grid::Grid;
use crate::real::Real;

/// max over cells with f > 0 of Σ_faces u⁺ m'(f)/h, computed from the outgoing face
/// fluxes as (Σ F_out)/(h f) · m'(f) f/m(f) (gradient-flow scheme). docs/MATH.md §2b bounds
/// Δt by the outflow rate with (1 + β f^γ), which keeps f ≥ 0 but lets forward Euler
/// flip-flop at a maximum (the entropy then rises); the mobility's Lipschitz constant
/// m'(f) = 1 + (1+γ) β f^γ, as in the upwind bound, removes that.
pub(super) fn gradient_flow_rate<T: Real>(
    pool: &rayon::ThreadPool,
    scheme: &GradientFlow<T>,
    grid: &Grid,
    rows_per_chunk: usize,
    f: &[T],
    scratch: &mut [RowScratch<T>],
) -> f64 {
    let (n, dim) = (grid.cells, grid.dim);
    let rows = if dim == 2 { n } else { 1 };
    let inv_h = T::from_f64(1.0 / grid.h());
    pool.install(|| {
        scratch
            .par_iter_mut()
            .enumerate()
            .map(|(c, s)| {
                let first = c * rows_per_chunk;
                let last = (first + rows_per_chunk).min(rows);
                let mut worst = T::zero();
                if first < last {
                    sweep_rows(scheme, n, dim, f, first..last, s, |_, row, fl| {
                        for (j, &fi) in row.iter().enumerate() {
                            if fi > T::zero() {
                                let out = fl.above[j].max(T::zero())
                                    + (-fl.below[j]).max(T::zero())
                                    + fl.along[j + 1].max(T::zero())
                                    + (-fl.along[j]).max(T::zero());
                                worst = worst.max(out * inv_h / fi * scheme.lipschitz_over_mobility(fi));
                            }
                        }
                    });
                }
                worst.as_f64()
            })
            .reduce(|| 0.0, f64::max)
    })
}
