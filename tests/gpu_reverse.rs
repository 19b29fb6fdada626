//! The reverse-time PDE on the device (f32) against its CPU twin (f64). Skips loudly
//! without an adapter unless FPGEN_REQUIRE_GPU is set.

mod common;
use common::*;
use fpgen::backend::gpu::context::context_for_tests;
use fpgen::backend::gpu::reverse::GpuReversePde;
use fpgen::reverse::pde::ReversePde;

/// Face velocities and 200 explicit steps of g (a different density from f) agree with the
/// CPU twin to f32 rounding, 1D and 2D, γ = 2 and 3. Tolerances: a velocity is a
/// difference of two logs over h, so its f32 error is about ε |ln f| / h relative to its
/// scale (ε = 6e-8, |ln f| ≤ 30 for the floored tails, h ≈ 0.1–0.2) → 2e-5 of max |V|;
/// 200 steps of a contractive (positive, conservative) scheme accumulate ≈ 200 ε per cell
/// on top of that → relative L1 1e-5. Measured on lavapipe: velocities 2.1–3.9e-6 of
/// max |V|, g 1.5–1.6e-7.
#[test]
fn reverse_pde_on_the_device_matches_the_cpu() {
    let Some(ctx) = context_for_tests(1 << 20, 2) else { return };
    for (dim, gamma) in [(1, 3.0), (2, 2.0), (2, 3.0)] {
        let cfg = config(
            dim,
            &["grid.cells=61", &format!("model.gamma={gamma}"), "initial.mass=3.0", "scheme.log_floor=1e-30"],
        );
        let grid = cfg.grid().unwrap();
        let mut fwd = loaded(&cfg);
        fwd.step_n(40, &control(&cfg, f64::INFINITY)).unwrap();
        let f = field(fwd.as_mut(), grid.len());
        // g: the initial density (so g ≠ f)
        let g0 = cfg.initial_density().unwrap().on_grid(&grid, 3.0).unwrap();
        let eta = 0.5;
        let mut cpu = ReversePde::new(&grid, &cfg.model_params(), eta, 1e-30);
        cpu.set_forward(&f);
        let dt = 0.9 * cpu.bound();
        let mut gpu = GpuReversePde::new(&ctx, &grid, &cfg.model_params(), eta, 1e-30).unwrap();
        let to32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        gpu.set_forward(&ctx, &to32(&f));
        gpu.upload(&ctx, &to32(&g0));

        let n = grid.cells;
        let rows = if dim == 2 { n } else { 1 };
        let mut v_gpu = vec![0f32; rows * (n + 1)];
        gpu.read_velocities_along(&ctx, &mut v_gpu).unwrap();
        let v_cpu = cpu.velocities_along();
        let scale = v_cpu.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let worst = v_gpu.iter().zip(v_cpu).map(|(&a, &b)| (a as f64 - b).abs()).fold(0.0, f64::max);

        let mut g = g0.clone();
        let mut next = vec![0.0; g.len()];
        for _ in 0..200 {
            cpu.step(&g, dt, &mut next);
            std::mem::swap(&mut g, &mut next);
        }
        gpu.step_n(&ctx, 200, dt);
        let mut g_gpu = vec![0f32; g.len()];
        gpu.read_g(&ctx, &mut g_gpu).unwrap();
        let g_gpu: Vec<f64> = g_gpu.iter().map(|&v| v as f64).collect();
        let err = rel_l1(&g_gpu, &g);
        eprintln!(
            "{dim}D gamma = {gamma}: velocity error {:.2e} of max |V|, g relative L1 {err:.2e}",
            worst / scale
        );
        assert!(worst <= 2e-5 * scale, "{dim}D: velocity error {worst:e} (max |V| {scale})");
        assert!(err < 1e-5, "{dim}D: relative L1 {err:e}");
        // mass kept to f32 rounding
        let (m_gpu, m_cpu): (f64, f64) = (g_gpu.iter().sum(), g.iter().sum());
        assert!(((m_gpu - m_cpu) / m_cpu).abs() < 1e-5);
    }
}

/// `generate` in the log-score mode on the device (forward and reverse in f32) against the
/// CPU (f64), 1D and 2D, from f(T) and from the equilibrium: the reconstructions agree to
/// f32 accumulation over the run (≈ steps × ε ≈ 3·10³ × 6e-8 = 2e-4 as a worst case; the
/// rounding errors do not add coherently: measured 1.5e-7 in 1D, 8.7e-8 in 2D on lavapipe),
/// and the GPU run keeps mass.
#[test]
fn generation_on_the_device_matches_the_cpu() {
    use fpgen::reverse::generate::{generate_from, ReverseMode, ReverseSettings, Start};
    let Some(ctx) = context_for_tests(1 << 20, 2) else { return };
    let ctx = std::sync::Arc::new(ctx);
    for (dim, cells, start) in [(1, 201, Start::Terminal), (2, 41, Start::Equilibrium)] {
        let cfg = config(
            dim,
            &[&format!("grid.cells={cells}"), "model.gamma=3.0", "initial.mass=2.0", "run.t_final=0.5"],
        );
        let grid = cfg.grid().unwrap();
        let f0 = cfg.initial_density().unwrap().on_grid(&grid, 2.0).unwrap();
        let settings = ReverseSettings {
            eta: 1.0,
            start,
            mode: ReverseMode::LogScore,
            store_every: 4,
            memory_budget_bytes: 1 << 30,
            safety: 0.9,
            log_floor: 1e-30,
            particles: None,
        };
        let dir = tempfile::tempdir().unwrap();
        let cpu = generate_from(&cfg, f0.clone(), &settings, dir.path(), None, &mut |_, _| {}).unwrap();
        let gpu = generate_from(&cfg, f0, &settings, dir.path(), Some(&ctx), &mut |_, _| {}).unwrap();
        let err = rel_l1(&gpu.generated, &cpu.generated);
        eprintln!(
            "{dim}D {start:?}: GPU vs CPU relative L1 {err:.2e} ({} / {} reverse steps); rel L1 to f(0) {:.3e} / {:.3e}",
            gpu.reverse_steps, cpu.reverse_steps, gpu.rel_l1_to_initial, cpu.rel_l1_to_initial
        );
        assert!(err < 1e-4, "{dim}D: {err:e}");
        assert!(((gpu.mass_generated - gpu.mass_initial) / gpu.mass_initial).abs() < 1e-5);
    }
}
