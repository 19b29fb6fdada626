//! Every function of shaders/shared/model.wgsl against its CPU twin `Physics<f32>` on the
//! same densities, for both statistics and for exponents on the fast paths and on `pow`.
//! Skips loudly without an adapter unless FPGEN_REQUIRE_GPU is set.

use fpgen::forward::gpu::model_check::{evaluate, evaluate_cpu, OUTPUTS};
use fpgen::gpu::context::context_for_tests;
use fpgen::model::{ModelParams, Statistics};

const NAMES: [&str; OUTPUTS] = [
    "nonlinear",
    "mobility",
    "mobility_derivative",
    "mobility_up",
    "mobility_down",
    "face_mobility",
    "entropy_derivative",
    "drift_factor",
    "outflow_factor",
    "power",
];

/// Densities from 0 through the scale of the nonlinearity (and, for fermions, up to just
/// below saturation, crossing the mobility's peak).
fn densities(model: &ModelParams) -> Vec<f32> {
    let top = model.saturation().unwrap_or(20.0 * model.beta.powf(-1.0 / model.gamma));
    let mut f: Vec<f32> = (0..=400).map(|i| (top * (i as f64 / 400.0).powi(2) * 0.9999) as f32).collect();
    f.extend([1e-30, 1e-12, 1e-6, 0.0]);
    f
}

#[test]
fn model_wgsl_matches_physics_for_both_statistics() {
    let Some(ctx) = context_for_tests(1 << 20, 1) else { return };
    let log_floor = 1e-30f32;
    for statistics in [Statistics::Bose, Statistics::Fermi] {
        for gamma in [1.0, 2.0, 3.0, 4.0, 1.5, 2.7] {
            let model = ModelParams { statistics, ..ModelParams::bose(1.0, 0.8, gamma, 0.7) };
            let f = densities(&model);
            let gpu = evaluate(&ctx, &model, &f, log_floor).unwrap();
            let cpu = evaluate_cpu(&model, &f, log_floor);
            for (i, (g, c)) in gpu.chunks(OUTPUTS).zip(cpu.chunks(OUTPUTS)).enumerate() {
                // f32 transcendental functions on a device are within a few ulp of the
                // correctly rounded ones (pow more loosely): compare at the scale of the
                // cell's mobility, where m↓ = m − m(f*) cancels, times the condition number
                // |b f^γ| / |1 + b f^γ| of log(1 + b f^γ) (large just below saturation)
                let condition = 1.0f32.max(c[0].abs() / (1.0 + c[0]).abs());
                let scale = 1.0f32.max(c[1].abs()).max(c[6].abs()) * condition;
                for k in 0..OUTPUTS {
                    assert!(
                        (g[k] - c[k]).abs() <= 2e-5 * scale.max(c[k].abs()),
                        "{statistics:?} γ = {gamma}, f = {}: {} GPU {} CPU {}",
                        f[i],
                        NAMES[k],
                        g[k],
                        c[k]
                    );
                }
            }
        }
    }
}

/// The monotone parts: m↑ + m↓ = m, m↑ non-decreasing, m↓ non-increasing (CPU, f64).
#[test]
fn mobility_parts_split_m_into_monotone_pieces() {
    for statistics in [Statistics::Bose, Statistics::Fermi] {
        let model = ModelParams { statistics, ..ModelParams::bose(1.0, 0.8, 2.5, 0.7) };
        let phys = model.physics::<f64>();
        let top = model.saturation().unwrap_or(10.0);
        let mut last = (0.0, 0.0);
        for i in 0..=2000 {
            let f = top * i as f64 / 2000.0;
            let (up, down) = (phys.mobility_up(f), phys.mobility_down(f));
            assert!((up + down - phys.mobility(f)).abs() <= 1e-14 * (1.0 + phys.mobility(f).abs()), "{f}");
            assert!(up >= last.0 - 1e-15 && down <= last.1 + 1e-15, "{statistics:?} f = {f}");
            last = (up, down);
        }
        if statistics == Statistics::Fermi {
            // m vanishes at saturation, and the face mobility into a saturated cell is ≤ 0
            let sat = top;
            assert!(phys.mobility(sat).abs() < 1e-12);
            assert!(phys.face_mobility(0.5 * sat, sat) <= 1e-12);
        } else {
            assert!(!phys.has_decreasing_part());
        }
    }
}
