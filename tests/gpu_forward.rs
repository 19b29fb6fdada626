//! The GPU step of both schemes against its CPU twin (f32), on whatever adapter wgpu finds
//! (lavapipe in CI). Skips loudly without an adapter unless FPGEN_REQUIRE_GPU is set.

mod common;
use common::*;
use fpgen::forward::cpu::Discretisation;
use fpgen::forward::gpu::GpuStepper;
use fpgen::gpu::context::context_for_tests;

/// 1000 steps agree with the CPU f32 path to relative L1 ≤ 1e-5 for each scheme,
/// integrator and dimension (the two form the same face fluxes and sums; they differ by the
/// last bits of log/pow and of fused multiply-adds, i.e. by f32 round-off). Δt is fixed at
/// half the initial bound so that both advance the same times (the adaptive sequence is
/// tested below).
#[test]
fn gpu_matches_cpu_f32_for_every_scheme_integrator_and_dimension() {
    let Some(ctx) = context_for_tests(4 * 65 * 65, 2) else { return };
    eprintln!("GPU test on {} ({}, {})", ctx.summary.name, ctx.summary.backend, ctx.summary.driver);
    for (scheme, integrator) in SCHEMES {
        for (dim, cells, gamma) in [(1, 101, 2.0), (2, 65, 2.0), (2, 65, 2.5)] {
            let mut cfg = scheme_config(
                dim,
                scheme,
                integrator,
                &[
                    &format!("grid.cells={cells}"),
                    &format!("model.gamma={gamma}"),
                    "model.beta=1.5",
                    "run.precision=\"f32\"",
                ],
            );
            let grid = cfg.grid().unwrap();
            let mut cpu = loaded(&cfg);
            let f0 = field(cpu.as_mut(), grid.len());
            cfg.scheme.dt = Some(0.5 * cpu.dt_bound());
            let mut gpu = fpgen::forward::create(&problem(&cfg), &gpu_device(&cfg)).unwrap();
            gpu.upload(&f0, 0.0).unwrap();
            cpu.set_dt_policy(fpgen::forward::DtPolicy::Fixed(cfg.scheme.dt.unwrap())).unwrap();
            let ctl = control(&cfg, f64::INFINITY);
            assert_eq!(cpu.step_n(1000, &ctl).unwrap().steps, 1000);
            assert_eq!(gpu.step_n(1000, &ctl).unwrap().steps, 1000);
            let g = field(gpu.as_mut(), grid.len());
            let e = rel_l1(&g, &field(cpu.as_mut(), grid.len()));
            eprintln!(
                "{scheme}/{integrator} {dim}D N = {cells} gamma = {gamma}: relative L1 GPU vs CPU f32 after 1000 steps = {e:e}"
            );
            assert!(e <= 1e-5, "{scheme}/{integrator} {dim}D gamma={gamma}: relative L1 {e:e}");
            assert!(
                (gpu.time() - cpu.time()).abs() < 1e-5 * cpu.time(),
                "t {} vs {}",
                gpu.time(),
                cpu.time()
            );
            let mass_gpu: f64 = g.iter().sum::<f64>() * grid.cell_volume();
            assert!((mass_gpu - 1.0).abs() < 1e-5, "GPU mass drift {:e}", mass_gpu - 1.0);
        }
    }
}

/// The adaptive Δt is computed and consumed on the device. Its sequence follows the CPU's
/// to f32 tolerance; the last step lands on t_stop, and then the device stands still.
/// Safety 0.5: at 0.9 the gradient-flow scheme's far tail (f ~ 1e-6 here) starts a
/// decaying 2-cycle in time after ~30 steps (its bound guarantees positivity, not
/// monotonicity of the log-potential flux), which amplifies round-off: there even CPU f32
/// and CPU f64 Δt part by 5e-4, so no f32 tolerance can hold. The gradient-flow bound is a
/// face velocity u = Δξ/h: ξ ≈ 15 in the tail carries an f32 rounding of ~1e-6 (the
/// device's log is within 2⁻²¹ absolute), and Δξ ≈ 0.1–0.5 there, so Δt agrees to ~3e-5.
#[test]
fn gpu_adaptive_dt_follows_the_cpu() {
    let Some(ctx) = context_for_tests(4 * 65 * 65, 2) else { return };
    for (scheme, dim) in [("upwind", 1), ("upwind", 2), ("gradient-flow", 1), ("gradient-flow", 2)] {
        let cfg = scheme_config(
            dim,
            scheme,
            "euler",
            &[
                "grid.cells=65",
                "model.beta=3.0",
                "initial.mass=3.0",
                "run.precision=\"f32\"",
                "scheme.safety=0.5",
            ],
        );
        let grid = cfg.grid().unwrap();
        let mut cpu = loaded(&cfg);
        let f0: Vec<f32> = field(cpu.as_mut(), grid.len()).iter().map(|&v| v as f32).collect();
        let ctl = control(&cfg, f64::INFINITY);
        let mut gpu = GpuStepper::new(&ctx, &Discretisation::from_config(&cfg).unwrap()).unwrap();
        gpu.upload(&ctx, &f0, 0.0);
        let mut worst: f64 = 0.0;
        for step in 0..60 {
            let dt_gpu = gpu.read_state(&ctx).unwrap().dt as f64;
            let dt_cpu = cpu.step_n(1, &ctl).unwrap().dt_last;
            gpu.step_n(&ctx, 1, false);
            let rel = (dt_gpu - dt_cpu).abs() / dt_cpu;
            worst = worst.max(rel);
            assert!(rel < 3e-5, "{scheme} {dim}D step {step}: GPU dt {dt_gpu:e} vs CPU {dt_cpu:e}");
        }
        eprintln!(
            "{scheme} {dim}D: adaptive dt, 60 steps, max relative difference GPU vs CPU f32 = {worst:e}"
        );
        // land on t_stop: t advances by at most t_stop − t and then stays there
        let t_now = gpu.read_state(&ctx).unwrap().t();
        let t_stop = t_now + 25.5 * gpu.read_state(&ctx).unwrap().dt as f64;
        gpu.set_t_stop(&ctx, t_stop);
        gpu.step_n(&ctx, 60, false);
        let s = gpu.read_state(&ctx).unwrap();
        assert!((s.t() - t_stop).abs() < 1e-6 * t_stop, "t = {} t_stop = {t_stop}", s.t());
        assert!(s.steps >= 60 + 20 && s.steps < 60 + 60, "steps {}", s.steps);
        assert_eq!(s.dt, 0.0);
    }
}

/// The device reductions equal the CPU's diagnostics of the same field (f32 sums).
#[test]
fn gpu_diagnostics_match_cpu() {
    let Some(_probe) = context_for_tests(4 * 65 * 65, 2) else { return };
    for (dim, beta) in [(1, 0.0), (2, 1.5)] {
        let cfg = config(
            dim,
            &["grid.cells=65", &format!("model.beta={beta}"), "run.precision=\"f32\"", "model.gamma=2.5"],
        );
        let mut cpu = loaded(&cfg);
        let mut gpu = fpgen::forward::create(&problem(&cfg), &gpu_device(&cfg)).unwrap();
        let f = field(cpu.as_mut(), cfg.grid().unwrap().len());
        gpu.upload(&f, 0.0).unwrap();
        let (c, g) = (cpu.diagnostics().unwrap(), gpu.diagnostics().unwrap());
        let close = |a: f64, b: f64, what: &str| {
            assert!((a - b).abs() <= 2e-6 * a.abs().max(1e-3), "{dim}D {what}: GPU {b} vs CPU {a}");
        };
        close(c.mass, g.mass, "mass");
        close(c.l2, g.l2, "l2");
        close(c.second_moment, g.second_moment, "second moment");
        close(c.entropy, g.entropy, "entropy");
        close(c.max, g.max, "max");
        close(c.min, g.min, "min");
        close(c.origin_mass, g.origin_mass, "origin mass");
    }
}

/// GPU mass drift ≤ 1e-5 relative after 10^4 adaptive steps at N = 257 in 2D (the f32
/// update rounds each cell; the fluxes still cancel pairwise).
#[test]
fn gpu_mass_drift_after_ten_thousand_steps() {
    let Some(_probe) = context_for_tests(4 * 257 * 257, 2) else { return };
    let cfg = config(2, &["grid.cells=257", "run.precision=\"f32\"", "initial.mass=2e12"]);
    let mut gpu = fpgen::forward::create(&problem(&cfg), &gpu_device(&cfg)).unwrap();
    let grid = cfg.grid().unwrap();
    let f0 = cfg.initial_density().unwrap().on_grid(&grid, 3.0).unwrap();
    gpu.upload(&f0, 0.0).unwrap();
    let m0 = gpu.diagnostics().unwrap().mass;
    let out = gpu.step_n(10_000, &control(&cfg, f64::INFINITY)).unwrap();
    assert_eq!(out.steps, 10_000, "{:?}", out.stop);
    let d = gpu.diagnostics().unwrap();
    let drift = ((d.mass - m0) / m0).abs();
    eprintln!("GPU mass drift after 10^4 steps at N = 257: {drift:e} (t = {})", d.t);
    assert!(drift <= 1e-5, "drift {drift:e}");
    assert!(d.min >= 0.0);
}

/// Fields of more than 65535 workgroups (4097² cells) reduce correctly: the dispatch is
/// folded into two dimensions. A uniform density 1 has mass (2L)².
#[test]
fn gpu_reduction_of_a_large_field() {
    let Some(_probe) = context_for_tests(4 * 4097 * 4097, 2) else { return };
    let cfg = config(2, &["grid.cells=4097", "run.precision=\"f32\"", "model.beta=0.0"]);
    let mut gpu = fpgen::forward::create(&problem(&cfg), &gpu_device(&cfg)).unwrap();
    gpu.upload(&vec![1.0; 4097 * 4097], 0.0).unwrap();
    let d = gpu.diagnostics().unwrap();
    assert!((d.mass - 100.0).abs() < 1e-5 * 100.0, "mass {}", d.mass);
    assert_eq!((d.min, d.max), (1.0, 1.0));
}

/// `fpgen bench --backend gpu` times passes with timestamp queries where the adapter has
/// them (lavapipe does), else with the wall clock; either way the steps were all taken
/// and conserved mass.
#[test]
fn gpu_bench_times_the_steps() {
    let Some(ctx) = context_for_tests(4 * 65 * 65, 2) else { return };
    let ctx = std::sync::Arc::new(ctx);
    let row = fpgen::run::bench::measure_gpu(&ctx, 65, 40, 2).unwrap();
    let expected = if ctx.timestamps { "timestamp queries" } else { "wall clock" };
    assert_eq!(row.timing, expected);
    assert!(row.ms_per_step > 0.0 && row.ms_per_step.is_finite(), "{row:?}");
    assert!(row.rel_mass_change.abs() < 1e-6, "{row:?}");
}

/// Changing the Δt policy of a GPU backend after upload (the stepper is rebuilt and the
/// field uploaded again) steps exactly as a backend built with that policy.
#[test]
fn gpu_dt_policy_change_equals_a_backend_built_with_it() {
    let Some(_probe) = context_for_tests(4 * 33 * 33, 2) else { return };
    let cfg = config(2, &["grid.cells=33", "run.precision=\"f32\""]);
    let grid = cfg.grid().unwrap();
    let f0 = problem(&cfg).initial;
    let mut adaptive = fpgen::forward::create(&problem(&cfg), &gpu_device(&cfg)).unwrap();
    adaptive.upload(&f0, 0.0).unwrap();
    let dt = 0.5 * adaptive.dt_bound();
    adaptive.set_dt_policy(fpgen::forward::DtPolicy::Fixed(dt)).unwrap();
    let mut fixed_cfg = cfg.clone();
    fixed_cfg.scheme.dt = Some(dt);
    let mut fixed = fpgen::forward::create(&problem(&fixed_cfg), &gpu_device(&cfg)).unwrap();
    fixed.upload(&f0, 0.0).unwrap();
    let ctl = control(&cfg, f64::INFINITY);
    for b in [&mut adaptive, &mut fixed] {
        let out = b.step_n(10, &ctl).unwrap();
        assert_eq!((out.steps, out.dt_last as f32), (10, dt as f32));
    }
    assert_eq!(field(adaptive.as_mut(), grid.len()), field(fixed.as_mut(), grid.len()));
}

/// A batch that ends in NaN/Inf is undone and replayed a step at a time: the backend stops
/// on the last finite state, at the same step, time and bits as a backend stepped one step
/// per call (an f32 condensate whose drift flux overflows).
#[test]
fn gpu_nan_stop_keeps_the_last_finite_state() {
    let Some(_probe) = context_for_tests(4 * 41, 1) else { return };
    let cfg = config(1, &["run.precision=\"f32\"", "initial.mass=2e12"]);
    let ctl = control(&cfg, f64::INFINITY);
    let f0 = problem(&cfg).initial;
    let start = || {
        let mut b = fpgen::forward::create(&problem(&cfg), &gpu_device(&cfg)).unwrap();
        b.upload(&f0, 0.0).unwrap();
        b
    };
    let mut batched = start();
    let out = batched.step_n(1_000_000, &ctl).unwrap();
    assert_eq!(out.stop, Some(fpgen::forward::StopReason::NonFinite), "{out:?}");
    let mut single = start();
    let mut steps = 0;
    loop {
        let o = single.step_n(1, &ctl).unwrap();
        steps += o.steps;
        if o.stop.is_some() {
            assert_eq!(o.stop, Some(fpgen::forward::StopReason::NonFinite));
            break;
        }
        assert!(steps <= out.steps, "stepped one at a time, the run goes past {} steps", out.steps);
    }
    eprintln!("NaN/Inf after {steps} steps, t = {:e}", batched.time());
    assert!(steps > fpgen::forward::gpu::backend::BATCH, "the failure should not be in the first batch");
    assert_eq!((out.steps, batched.time()), (steps, single.time()));
    let (a, b) = (field(batched.as_mut(), 41), field(single.as_mut(), 41));
    assert!(a.iter().all(|v| v.is_finite()), "the last finite state");
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
}
