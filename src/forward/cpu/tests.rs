//! Unit tests of the CPU kernels: bounds, the gradient-flow cells, the fused upwind twin.

use super::row_sweep::RowScratch;
use super::schemes::{GradientFlow, PaddedRows, Upwind};
use super::*;
use crate::model::initial_density::InitialDensity;
use crate::model::ModelParams;

/// The cell-local upwind bound is never stricter than docs/MATH.md §2a's global one.
#[test]
fn local_upwind_bound_is_at_least_the_global_bound() {
    let grid = Grid::new(2, 31, 4.0).unwrap();
    let params = ModelParams::bose(1.0, 2.0, 2.0, 0.5);
    let disc = Discretisation {
        grid: grid.clone(),
        params,
        scheme: SchemeKind::Upwind,
        integrator: Integrator::Euler,
        log_floor: 1e-30,
        dt: DtPolicy::Adaptive { safety: 0.9 },
        time_tolerance: 1e-3,
        steps_per_pass: 1,
    };
    let mut b = CpuBackend::<f64>::new(disc, Some(1)).unwrap();
    let f = InitialDensity::GaussianMixture {
        centres: vec![vec![1.0, -2.0]],
        std_devs: vec![0.4],
        weights: vec![1.0],
    }
    .on_grid(&grid, 3.0)
    .unwrap();
    b.upload(&f, 0.0).unwrap();
    let fmax = f.iter().copied().fold(0.0, f64::max);
    let global = params.upwind_dt_bound_global(&grid, fmax);
    let local = b.dt_bound();
    assert!(local >= global && local < 10.0 * global, "local {local} global {global}");
}

/// The gradient-flow kernel's per-cell (ξ, m) are the model's chemical potential and
/// mobility.
#[test]
fn gradient_flow_cells_are_the_model_functions() {
    let grid = Grid::new(2, 9, 2.0).unwrap();
    let params = ModelParams::bose(1.5, 0.8, 2.5, 0.7);
    let gf = GradientFlow::<f64>::new(&grid, &params, 1e-30);
    let f: Vec<f64> = (0..9).map(|j| 0.1 + 0.2 * j as f64).collect();
    let (mut p, mut q, mut r) = (vec![0.0; 9], vec![0.0; 9], vec![0.0; 9]);
    gf.cells(3, &f, &mut p, &mut q, &mut r);
    for j in 0..9 {
        let r2 = grid.radius_squared(3 * 9 + j);
        assert!((p[j] - params.chemical_potential(r2, f[j])).abs() < 1e-14);
        assert!((q[j] + r[j] - params.mobility(f[j])).abs() < 1e-14);
    }
}

/// The fused upwind kernel and the generic sweep with the same scheme are twins: the
/// same face fluxes (written in a different operation order), so they agree to a few
/// ulps of the field.
#[test]
fn fused_upwind_equals_the_generic_sweep() {
    for (dim, n) in [(1, 37), (2, 23)] {
        let grid = Grid::new(dim, n, 3.0).unwrap();
        let params = ModelParams::bose(1.3, 0.7, 2.5, 0.9);
        let centres = if dim == 1 { vec![vec![0.4]] } else { vec![vec![0.4, -0.3]] };
        let f0 = InitialDensity::GaussianMixture { centres, std_devs: vec![0.6], weights: vec![1.0] }
            .on_grid(&grid, 2.0)
            .unwrap();
        let scheme = Upwind::<f64>::new(&grid, &params);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let rows = if dim == 2 { n } else { 1 };
        let rpc = rows.div_ceil(3);
        let chunks = rows.div_ceil(rpc);
        let mut scratch: Vec<_> = (0..chunks).map(|_| RowScratch::new(n)).collect();
        let mut padded: Vec<_> = (0..chunks).map(|_| PaddedRows::new(n)).collect();
        let dt_over_h = 0.01;
        let base: Vec<f64> = f0.iter().map(|v| 0.5 * v).collect();
        for blend in [None, Some(base.as_slice())] {
            let (mut a, mut b) = (f0.clone(), f0.clone());
            let sa = update(&pool, &scheme, &grid, rpc, &f0, &mut a, &mut scratch, dt_over_h, blend);
            let sb = update_upwind(&pool, &scheme, &grid, rpc, &f0, &mut b, &mut padded, dt_over_h, blend);
            let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
            assert!(worst <= 1e-15 * sa.max, "{dim}D blend={}: max difference {worst:e}", blend.is_some());
            assert!((sa.max - sb.max).abs() <= 1e-15 * sa.max);
            assert!((sa.rate_weight - sb.rate_weight).abs() <= 1e-15 * sa.rate_weight);
        }
    }
}
