//! The reverse-time PDE on the device (f32) against its CPU twin (f64). Skips loudly
//! without an adapter unless FPGEN_REQUIRE_GPU is set.

mod common;
use common::*;
use fpgen::gpu::context::context_for_tests;
use fpgen::reverse::gpu_pde::GpuReversePde;
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

        // many steps in one submission take the same steps, bit for bit, as one submission
        // per step, for an odd count too (the ping-pong ends on the right buffer)
        for steps in [37u32, 200] {
            let run = |one_call: bool| {
                let mut op = GpuReversePde::new(&ctx, &grid, &cfg.model_params(), eta, 1e-30).unwrap();
                op.set_forward(&ctx, &to32(&f));
                op.upload(&ctx, &to32(&g0));
                if one_call {
                    op.step_n(&ctx, steps, dt);
                } else {
                    (0..steps).for_each(|_| op.step_n(&ctx, 1, dt));
                }
                let mut out = vec![0f32; g0.len()];
                op.read_g(&ctx, &mut out).unwrap();
                out
            };
            let (a, b) = (run(true), run(false));
            assert!(a.iter().zip(&g0).any(|(x, y)| (*x as f64 - y).abs() > 1e-6), "nothing moved");
            assert!(a == b, "{dim}D, {steps} steps: batched and single steps differ");
        }
    }
}

/// `generate` in the log-score mode on the device (forward and reverse in f32) against the
/// CPU (f64), 1D and 2D, from f(T) and from the equilibrium: the reconstructions agree to
/// f32 accumulation over the run (≈ steps × ε ≈ 3·10³ × 6e-8 = 2e-4 as a worst case; the
/// rounding errors do not add coherently: measured 1.5e-7 in 1D, 8.7e-8 in 2D on lavapipe),
/// and the GPU run keeps mass.
#[test]
fn generation_on_the_device_matches_the_cpu() {
    use fpgen::run::generation::{
        generate_from, NoPath, ParticleOptions, ReverseMode, ReverseSettings, Start,
    };
    let Some(ctx) = context_for_tests(1 << 20, 2) else { return };
    let device = fpgen::gpu::Device::Gpu(std::sync::Arc::new(ctx));
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
            disk_budget_bytes: u64::MAX,
            safety: 0.9,
            log_floor: 1e-30,
            flux: fpgen::reverse::pde::FaceFlux::Upwind,
            particles: Some(ParticleOptions { count: 20_000, dt: 0.01, seed: 5 }),
        };
        let dir = tempfile::tempdir().unwrap();
        let cpu = generate_from(
            &problem(&cfg),
            f0.clone(),
            &settings,
            dir.path(),
            &fpgen::gpu::Device::Cpu,
            &mut |_, _| {},
            &mut NoPath,
        )
        .unwrap();
        let gpu =
            generate_from(&problem(&cfg), f0, &settings, dir.path(), &device, &mut |_, _| {}, &mut NoPath)
                .unwrap();
        let err = rel_l1(&gpu.generated, &cpu.generated);
        eprintln!(
            "{dim}D {start:?}: GPU vs CPU relative L1 {err:.2e} ({} / {} reverse steps); rel L1 to f(0) {:.3e} / {:.3e}",
            gpu.reverse_steps, cpu.reverse_steps, gpu.rel_l1_to_initial, cpu.rel_l1_to_initial
        );
        assert!(err < 1e-4, "{dim}D: {err:e}");
        // the samples: same starting points and normals, velocities from f32 and f64 forward
        // runs (which differ by ≈ 1e-6 relative), so nearly the same histogram
        let hist = |x: &[f64]| fpgen::reverse::particles::histogram(&grid, x, 2.0);
        let sample_gap = rel_l1(&hist(&gpu.samples), &hist(&cpu.samples));
        eprintln!("{dim}D: samples' histograms differ by {sample_gap:.2e} (relative L1)");
        assert_eq!(gpu.particle_steps, cpu.particle_steps);
        assert!(sample_gap < 1e-2, "{dim}D: samples' histogram gap {sample_gap:e}");
        assert!(((gpu.mass_generated - gpu.mass_initial) / gpu.mass_initial).abs() < 1e-5);
    }
}

/// Reverse particles moved on the device (f32) against the CPU twin (f64), with the same
/// stored forward solution, velocities from the host and normals: 1D and 2D, η = 1, every
/// particle. The map of one step is continuous (velocities linear between faces and centres,
/// mirror walls), so positions differ only by f32 rounding carried along: half an ulp of
/// |x| ≤ L = 5 (2.4e-7) per step, independent from step to step, so ≈ √S · 2.4e-7 ≤ 5e-6
/// after S ≤ 400 steps before the flow's stretching. Asserted: below 1e-3 h (5e-5 in 1D,
/// 2.4e-4 in 2D); measured on lavapipe 2.9e-6 and 7.8e-6. The histograms then differ only
/// by the few particles within that distance of a cell face.
#[test]
fn reverse_particles_on_the_device_match_the_cpu() {
    use fpgen::forward::cpu::Discretisation;
    use fpgen::reverse::particles::{self, CpuMover, DeviceMover, ReverseParticleSettings};
    use fpgen::reverse::store::SnapshotStore;
    let Some(ctx) = context_for_tests(1 << 20, 2) else { return };
    for (dim, cells) in [(1, 201), (2, 41)] {
        let cfg = config(dim, &[&format!("grid.cells={cells}"), "model.gamma=3.0", "initial.mass=1.0"]);
        let grid = cfg.grid().unwrap();
        let disc = Discretisation::from_config(&cfg).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut store = SnapshotStore::new(grid.len(), 1 << 30, dir.path());
        let mut fwd = loaded(&cfg);
        let ctl = control(&cfg, f64::INFINITY);
        store.push(0.0, &field(fwd.as_mut(), grid.len())).unwrap();
        for _ in 0..8 {
            fwd.step_n(5, &ctl).unwrap();
            store.push(fwd.time(), &field(fwd.as_mut(), grid.len())).unwrap();
        }
        let t_final = fwd.time();
        let terminal = field(fwd.as_mut(), grid.len());
        let start = fpgen::particles::sample::sample_cells(&terminal, &grid, 20_000, 3);
        let settings = ReverseParticleSettings { dt: t_final / 60.0, eta: 1.0, log_floor: 1e-30 };

        let mut on_cpu = start.clone();
        let mut cpu = CpuMover { grid: &grid, positions: &mut on_cpu, eta: 1.0, seed: 11 };
        let steps = fpgen::run::reverse_steps::reverse_particles(
            &disc,
            &store,
            t_final,
            &settings,
            &mut cpu,
            &mut |_, _| {},
        )
        .unwrap();
        let mut gpu = DeviceMover::new(&ctx, &grid, 1.0, 11, &start).unwrap();
        let gpu_steps = fpgen::run::reverse_steps::reverse_particles(
            &disc,
            &store,
            t_final,
            &settings,
            &mut gpu,
            &mut |_, _| {},
        )
        .unwrap();
        let mut on_gpu = vec![0.0; start.len()];
        gpu.read_positions(&mut on_gpu).unwrap();

        let worst = on_cpu.iter().zip(&on_gpu).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        let moved = on_cpu.iter().zip(&start).map(|(a, b)| (a - b).abs()).sum::<f64>() / start.len() as f64;
        let mass = 1.0;
        let hist_gap =
            rel_l1(&particles::histogram(&grid, &on_gpu, mass), &particles::histogram(&grid, &on_cpu, mass));
        eprintln!(
            "{dim}D: {steps} steps, largest position gap {worst:.2e} (h = {:.3e}, mean move {moved:.3e}), histogram gap {hist_gap:.2e}",
            grid.h()
        );
        assert_eq!(steps, gpu_steps);
        assert!(moved > 2.0 * grid.h(), "{dim}D: the particles hardly moved ({moved:e})");
        assert!(worst < 1e-3 * grid.h(), "{dim}D: position gap {worst:e}");
        assert!(hist_gap < 1e-2, "{dim}D: histogram gap {hist_gap:e}");
    }
}
