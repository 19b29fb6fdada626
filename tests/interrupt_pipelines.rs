//! Every time loop runs on the one `Simulation` loop and so stops on an interrupt request
//! at a step boundary. Its own test binary: the request flag is process-wide.

mod common;
use common::*;
use fpgen::reverse::particles::{CpuMover, ReverseParticleSettings};
use fpgen::reverse::store::SnapshotStore;

/// The request flag is process-wide: these tests take turns.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn my_turn() -> std::sync::MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A 1D problem's discretisation, its initial field f, and a store holding f at `times`
/// (in `dir`).
fn stored_problem(
    times: &[f64],
    dir: &std::path::Path,
) -> (fpgen::forward::cpu::Discretisation, fpgen::grid::Grid, Vec<f64>, SnapshotStore) {
    let cfg = config(1, &["grid.cells=41"]);
    let disc = fpgen::forward::cpu::Discretisation::from_config(&cfg).unwrap();
    let grid = cfg.grid().unwrap();
    let f = cfg.initial_density().unwrap().on_grid(&grid, 1.0).unwrap();
    let mut store = SnapshotStore::new(grid.len(), 1 << 20, dir);
    for &t in times {
        store.push(t, &f).unwrap();
    }
    (disc, grid, f, store)
}

/// The reverse particles (which had a private loop with no interrupt check): a pending
/// request ends them with `Error::Interrupted` before a step; without one they run to T.
#[test]
fn reverse_particles_stop_on_an_interrupt_request() {
    let _turn = my_turn();
    let dir = tempfile::tempdir().unwrap();
    let (disc, grid, _, store) = stored_problem(&[0.0, 1.0], dir.path());
    let settings = ReverseParticleSettings { dt: 0.01, eta: 1.0, log_floor: 1e-30 };
    let mut positions: Vec<f64> = (0..200).map(|i| -2.0 + 4.0 * i as f64 / 200.0).collect();
    let run = |positions: &mut Vec<f64>| {
        let mut mover = CpuMover { grid: &grid, positions, eta: 1.0, seed: 1 };
        fpgen::run::reverse_steps::reverse_particles(
            &disc,
            &store,
            1.0,
            &settings,
            &mut mover,
            &mut |_, _| {},
        )
    };
    fpgen::run::interrupt::request();
    let before = positions.clone();
    let err = run(&mut positions).expect_err("interrupted");
    fpgen::run::interrupt::clear();
    assert!(matches!(err, fpgen::Error::Interrupted(_)), "{err}");
    assert_eq!(positions, before, "no step was taken");
    let steps = run(&mut positions).unwrap();
    assert!(steps >= 100, "{steps} steps of at most 0.01 to T = 1");
}

/// Both reverse PDE phases (retracing the stored forward steps; the log-score PDE over the
/// stored intervals): a pending request ends them before a step, naming the phase.
#[test]
fn reverse_pde_phases_stop_on_an_interrupt_request() {
    let _turn = my_turn();
    use fpgen::run::generation::{ReverseMode, ReverseSettings, Start};
    use fpgen::run::reverse_steps::{retrace_forward_steps, reverse_log_score};
    let (times, dts) = ([0.0, 0.01, 0.02], [0.01, 0.01]);
    let dir = tempfile::tempdir().unwrap();
    let (disc, _, f, store) = stored_problem(&times, dir.path());
    let settings = ReverseSettings {
        eta: 1.0,
        start: Start::Terminal,
        mode: ReverseMode::LogScore,
        store_every: 1,
        memory_budget_bytes: 1 << 20,
        disk_budget_bytes: u64::MAX,
        safety: 0.9,
        log_floor: 1e-30,
        flux: fpgen::reverse::pde::FaceFlux::Upwind,
        particles: None,
    };
    let cpu = fpgen::gpu::Device::Cpu;
    for phase in ["retrace", "log-score"] {
        let run = |g: &mut Vec<f64>| match phase {
            "retrace" => {
                retrace_forward_steps(&disc, 1.0, &store, &times, &dts, g, &mut |_, _| {}, &mut |_, _| Ok(()))
            }
            _ => {
                reverse_log_score(&disc, &settings, &store, g, &cpu, &mut |_, _| {}, &[], &mut |_, _| Ok(()))
            }
        };
        let mut g = f.clone();
        fpgen::run::interrupt::request();
        let err = run(&mut g).expect_err("interrupted");
        fpgen::run::interrupt::clear();
        assert!(
            matches!(err, fpgen::Error::Interrupted(_)) && err.to_string().contains("reverse"),
            "{phase}: {err}"
        );
        assert_eq!(g, f, "{phase}: no step was taken");
        assert!(run(&mut g).unwrap() >= 2, "{phase}");
    }
}

/// The backward Fokker–Planck solve of `check-theory` (which had no interrupt check): a
/// pending request ends it before a step; without one it reaches every check time.
#[test]
fn backward_solve_stops_on_an_interrupt_request() {
    let _turn = my_turn();
    use fpgen::diffusion::backward::{self, CpuBackward};
    use fpgen::diffusion::sampler::Start;
    use fpgen::model::score::{LinearProcess, PointCloud};
    let heat = LinearProcess { lambda: 0.0, diffusion: 1.0 };
    let cloud = PointCloud::new(1, vec![-2.0, 1.5], Some(&[0.6, 0.4])).unwrap();
    let grid = fpgen::grid::Grid::new(1, 200, 8.0).unwrap();
    let times = [1.0, 0.5, 0.2];
    let start = backward::start_density(&heat, &cloud, &grid, Start::Exact, 1.0);
    let flux = fpgen::reverse::pde::FaceFlux::Upwind;
    let mut mover = CpuBackward::new(&heat, &cloud, &grid, 0.5, flux, vec![start.clone()]);
    fpgen::run::interrupt::request();
    let err = fpgen::run::diffusion_steps::backward_solve(&mut mover, 0.9, &times, &mut |_, _| {})
        .map(|_| ())
        .expect_err("interrupted");
    fpgen::run::interrupt::clear();
    assert!(matches!(err, fpgen::Error::Interrupted(_)), "{err}");
    let mut mover = CpuBackward::new(&heat, &cloud, &grid, 0.5, flux, vec![start]);
    let mut reached = Vec::new();
    let (out, steps) = fpgen::run::diffusion_steps::backward_solve(&mut mover, 0.9, &times, &mut |k, t| {
        reached.push((k, t))
    })
    .unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(reached, vec![(1, 0.5), (2, 0.2)]);
    assert!(steps > 0);
}

/// The reverse sampler of `sample` and `check-theory`: a pending request ends it before a
/// step (its own progress callback no longer has to check); without one it takes every
/// step.
#[test]
fn sampler_stops_on_an_interrupt_request() {
    let _turn = my_turn();
    use fpgen::diffusion::sampler::{start_positions, CpuSampler, SampleMethod, SamplerSettings, Start};
    use fpgen::model::score::{LinearProcess, PointCloud};
    let heat = LinearProcess { lambda: 0.0, diffusion: 1.0 };
    let cloud = PointCloud::new(1, vec![-1.0, 1.0], None).unwrap();
    let s = SamplerSettings {
        epsilon: 1.0,
        t_final: 1.0,
        t_min: 1e-3,
        steps: 50,
        stepper: SampleMethod::Exponential,
        start: Start::Exact,
        samples: 100,
        seed: 4,
        trajectories: 0,
    };
    let start = start_positions(&heat, &cloud, &s);
    let mut mover = CpuSampler::exact(&heat, &cloud, start.clone(), s.seed);
    fpgen::run::interrupt::request();
    let err = fpgen::run::diffusion_steps::sample(&heat, 1, &s, &mut mover, &start, &mut |_, _| Ok(()))
        .map(|_| ())
        .expect_err("interrupted");
    fpgen::run::interrupt::clear();
    assert!(matches!(err, fpgen::Error::Interrupted(_)), "{err}");
    let mut mover = CpuSampler::exact(&heat, &cloud, start.clone(), s.seed);
    let mut steps = 0;
    let sampled = fpgen::run::diffusion_steps::sample(&heat, 1, &s, &mut mover, &start, &mut |k, _| {
        steps = k;
        Ok(())
    })
    .unwrap();
    assert_eq!((steps, sampled.samples.len()), (50, 100));
}
