//! Every time loop runs on the one `Simulation` loop and so stops on an interrupt request
//! at a step boundary. Its own test binary: the request flag is process-wide.

mod common;
use common::*;
use fpgen::reverse::particles::{CpuMover, ReverseParticleSettings};
use fpgen::reverse::store::SnapshotStore;

/// The reverse particles (which had a private loop with no interrupt check): a pending
/// request ends them with `Error::Interrupted` before a step; without one they run to T.
#[test]
fn reverse_particles_stop_on_an_interrupt_request() {
    let cfg = config(1, &["grid.cells=41"]);
    let disc = fpgen::forward::cpu::Discretisation::from_config(&cfg).unwrap();
    let grid = cfg.grid().unwrap();
    let f = cfg.initial_density().unwrap().on_grid(&grid, 1.0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = SnapshotStore::new(grid.len(), 1 << 20, dir.path());
    store.push(0.0, &f).unwrap();
    store.push(1.0, &f).unwrap();
    let settings = ReverseParticleSettings { dt: 0.01, eta: 1.0, log_floor: 1e-30 };
    let mut positions: Vec<f64> = (0..200).map(|i| -2.0 + 4.0 * i as f64 / 200.0).collect();
    let run = |positions: &mut Vec<f64>| {
        let mut mover = CpuMover { grid: &grid, positions, eta: 1.0, seed: 1 };
        fpgen::run::reverse_particles::run(&disc, &store, 1.0, &settings, &mut mover, &mut |_, _| {})
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
