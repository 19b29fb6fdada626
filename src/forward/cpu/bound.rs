//! The gradient-flow scheme's step bound (its rate needs the fluxes of the new field, a
//! pass of its own).

use super::schemes::GradientFlow;
use rayon::prelude::*;

use super::row_sweep::{sweep_rows, RowScratch};
use crate::grid::Grid;
use crate::real::Real;

/// max over cells of [Σ_out u⁺ max(m'(f), 0) (cells with f > 0) + Σ_in |u| sup|m↓'|]/h
/// from the face velocities u (gradient-flow scheme, docs/MATH.md §2b, §2i). docs/MATH.md
/// §2b bounds Δt by the outflow rate with (1 + β f^γ), which keeps f ≥ 0 but lets
/// forward Euler flip-flop at a maximum (the entropy then rises); the mobility's
/// Lipschitz constant m'(f) = 1 + (1+γ) β f^γ, as in the upwind bound, removes that. The
/// inflow term keeps fermions below saturation (0 for bosons).
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
                let phys = &scheme.physics;
                let inflow_factor = phys.inflow_factor;
                if first < last {
                    sweep_rows(&scheme.velocities(), n, dim, f, first..last, s, |_, row, u| {
                        for (j, &fi) in row.iter().enumerate() {
                            let (above, below) = (u.above[j], -u.below[j]);
                            let (right, left) = (u.along[j + 1], -u.along[j]);
                            let zero = T::zero();
                            let mut rate = zero;
                            if fi > zero {
                                let out =
                                    above.max(zero) + below.max(zero) + right.max(zero) + left.max(zero);
                                rate = out * phys.outflow_factor(fi);
                            }
                            if inflow_factor > zero {
                                let inflow = (-above).max(zero)
                                    + (-below).max(zero)
                                    + (-right).max(zero)
                                    + (-left).max(zero);
                                rate = rate + inflow * inflow_factor;
                            }
                            worst = worst.max(rate * inv_h);
                        }
                    });
                }
                worst.as_f64()
            })
            .reduce(|| 0.0, f64::max)
    })
}
