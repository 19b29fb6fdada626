//! Temporal blocking on the device (`scheme.steps_per_pass`): k steps per pass on a tile
//! with a k-stage halo are the same arithmetic as k passes of one step, so with a fixed Δt
//! the fields agree bit for bit; with an adaptive Δt the pass freezes Δt and checks it
//! against the bound of every field it makes (docs/MATH.md §2h). Skips loudly without an
//! adapter unless FPGEN_REQUIRE_GPU is set.

mod common;
use common::*;
use fpgen::config::Config;
use fpgen::forward::cpu::Discretisation;
use fpgen::forward::gpu::GpuStepper;
use fpgen::forward::ForwardStepper;
use fpgen::gpu::context::context_for_tests;
use fpgen::kinds::max_steps_per_pass;

fn gpu_loaded(cfg: &Config, f0: &[f64]) -> Box<dyn ForwardStepper> {
    let mut b = fpgen::forward::create(&problem(cfg), &gpu_device(cfg)).unwrap();
    b.upload(f0, 0.0).unwrap();
    b
}

fn with_steps_per_pass(cfg: &Config, k: u32) -> Config {
    let mut c = cfg.clone();
    c.scheme.steps_per_pass = k;
    c
}

/// Every scheme and integrator, 1D over three row tiles and 2D over 3 × 3 tiles (both
/// with a partial last tile), fixed Δt: 37 steps (blocked passes and single ones), then
/// a stop time that falls inside a blocked pass and 11 more steps, which stand still after
/// landing on it. Bit-identical fields, same step count and time for every k; and the
/// same field as the CPU twin to f32 round-off (relative L1 ≤ 1e-5, as tests/gpu_forward.rs).
#[test]
fn blocked_passes_are_bit_identical_to_single_steps() {
    let Some(ctx) = context_for_tests(4 * 2101, 1) else { return };
    eprintln!("GPU test on {} ({}, {})", ctx.summary.name, ctx.summary.backend, ctx.summary.driver);
    for (scheme, integrator) in SCHEMES {
        for (dim, cells) in [(1, 2101), (2, 71)] {
            let base = scheme_config(
                dim,
                scheme,
                integrator,
                &[&format!("grid.cells={cells}"), "model.beta=1.5", "run.precision=\"f32\""],
            );
            let grid = base.grid().unwrap();
            let mut cpu = loaded(&base);
            let f0 = field(cpu.as_mut(), grid.len());
            let dt = 0.5 * cpu.dt_bound();
            let mut cfg = base.clone();
            cfg.scheme.dt = Some(dt);
            cpu.set_dt_policy(fpgen::forward::DtPolicy::Fixed(dt)).unwrap();
            let run = |b: &mut dyn ForwardStepper| {
                let first = b.step_n(37, &control(&cfg, f64::INFINITY)).unwrap().steps;
                let t_stop = b.time() + 20.5 * dt;
                let second = b.step_n(48, &control(&cfg, t_stop)).unwrap().steps;
                (first, second, b.time(), field(b, grid.len()))
            };
            let single = run(gpu_loaded(&cfg, &f0).as_mut());
            assert_eq!((single.0, single.1), (37, 21), "{scheme}/{integrator} {dim}D");
            let twin = run(cpu.as_mut());
            let e = rel_l1(&single.3, &twin.3);
            assert!(e <= 1e-5, "{scheme}/{integrator} {dim}D: relative L1 to the CPU {e:e}");
            let most = max_steps_per_pass(base.scheme.kind, base.scheme.integrator);
            for k in 2..=most {
                let blocked = run(gpu_loaded(&with_steps_per_pass(&cfg, k), &f0).as_mut());
                assert_eq!((blocked.0, blocked.1, blocked.2), (single.0, single.1, single.2), "k = {k}");
                let same = blocked.3.iter().zip(&single.3).all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "{scheme}/{integrator} {dim}D: {k} steps per pass differ from single steps");
            }
            eprintln!("{scheme}/{integrator} {dim}D N = {cells}: k = 1..={most} bit-identical");
        }
    }
}

/// An adaptive blocked pass takes its k steps with Δt = safety × the bound of its first
/// field. With safety 1 the gradient-flow bound, which moves with the fluxes every step,
/// falls below that Δt within a few passes: the pass says so (`overstep`). With
/// safety 0.25 it never does (the bound would have to fall by 4× within a pass).
#[test]
fn adaptive_blocked_pass_flags_a_later_bound_below_its_dt() {
    let Some(ctx) = context_for_tests(4 * 65 * 65, 2) else { return };
    let flagged = |safety: f64| {
        let cfg = scheme_config(
            2,
            "gradient-flow",
            "euler",
            &[
                "grid.cells=65",
                "run.precision=\"f32\"",
                "scheme.steps_per_pass=4",
                &format!("scheme.safety={safety}"),
            ],
        );
        let mut stepper = GpuStepper::new(&ctx, &Discretisation::from_config(&cfg).unwrap()).unwrap();
        let f0: Vec<f32> = problem(&cfg).initial.iter().map(|&v| v as f32).collect();
        stepper.upload(&ctx, &f0, 0.0);
        (0..20)
            .filter(|_| {
                stepper.keep(&ctx);
                stepper.step_n(&ctx, 4, true);
                let overstep = stepper.read_state(&ctx).unwrap().overstep != 0;
                // as the backend does: take the pass again a step at a time
                if overstep {
                    stepper.restore_kept(&ctx);
                    stepper.step_n(&ctx, 4, false);
                }
                overstep
            })
            .count()
    };
    let (tight, loose) = (flagged(1.0), flagged(0.25));
    eprintln!("passes flagged out of 20: safety 1: {tight}, safety 0.25: {loose}");
    assert!(tight > 0, "safety 1: no pass flagged");
    assert_eq!(loose, 0, "safety 0.25: {loose} passes flagged");
}

/// An adaptive run with 4 steps per pass (safety 0.5: no pass is flagged, so every step
/// of a pass takes the frozen Δt) is as accurate as the single-step run: both are first
/// order in time with steps of the same size, and their errors against a CPU f64 run with
/// a 16× smaller Δt are within 20 % of each other. Mass is kept to f32 round-off.
#[test]
fn adaptive_blocked_run_is_as_accurate_as_single_steps() {
    let Some(_probe) = context_for_tests(4 * 65 * 65, 2) else { return };
    for scheme in ["upwind", "gradient-flow"] {
        let base = scheme_config(
            2,
            scheme,
            "euler",
            &["grid.cells=65", "run.precision=\"f32\"", "scheme.safety=0.5"],
        );
        let grid = base.grid().unwrap();
        let t_stop = 0.2;
        let mut reference = loaded(&base);
        let f0 = field(reference.as_mut(), grid.len());
        let fine = base.scheme.safety * reference.dt_bound() / 16.0;
        reference.set_dt_policy(fpgen::forward::DtPolicy::Fixed(fine)).unwrap();
        reference.step_n(u64::MAX, &control(&base, t_stop)).unwrap();
        let exact = field(reference.as_mut(), grid.len());
        let error = |k: u32| {
            let mut b = gpu_loaded(&with_steps_per_pass(&base, k), &f0);
            b.step_n(u64::MAX, &control(&base, t_stop)).unwrap();
            assert_eq!(b.time(), t_stop);
            let f = field(b.as_mut(), grid.len());
            let mass: f64 = f.iter().sum::<f64>() * grid.cell_volume();
            assert!((mass - 1.0).abs() < 1e-5, "{scheme} k = {k}: mass {mass}");
            assert!(f.iter().all(|&v| v >= 0.0), "{scheme} k = {k}: negative density");
            rel_l1(&f, &exact)
        };
        let (single, blocked) = (error(1), error(4));
        // the upwind bound is set here by the drift at the box's edge, which does not move:
        // the frozen Δt is every step's; the gradient-flow bound moves with the fluxes
        if scheme == "gradient-flow" {
            assert_ne!(single, blocked, "the blocked run took the single steps' Δt");
        }
        eprintln!(
            "{scheme}: relative L1 error at t = {t_stop}: 1 step per pass {single:e}, 4 per pass {blocked:e}"
        );
        assert!(blocked <= 1.2 * single && single <= 1.2 * blocked, "{single:e} vs {blocked:e}");
    }
}
