//! `fpgen study blowup`: the threshold-free blow-up time and condensate mass at several
//! resolutions, with their observed orders (1D, γ = 3, 2 M_c, gradient-flow, a fixed small
//! Δt so that the time of the crossing is resolved).

use std::process::Command;

#[test]
fn blowup_study_converges_in_h() {
    let dir = tempfile::tempdir().unwrap();
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/blowup_1d.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_fpgen"))
        .args(["study", "blowup", config.to_str().unwrap(), "--cells", "101", "201", "401", "--quiet"])
        .args(["--out", dir.path().to_str().unwrap()])
        .args(["--set", "scheme.integrator=\"euler\"", "--set", "run.t_final=0.05"])
        .args(["--set", "run.output_times=[0.01]", "--set", "scheme.dt=2e-5"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let study: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("blowup_1d_blowup/study.json")).unwrap(),
    )
    .unwrap();
    let runs = study["runs"].as_array().unwrap();
    let times: Vec<f64> = runs.iter().map(|r| r["blowup_time"].as_f64().unwrap()).collect();
    let condensate: Vec<f64> = runs.iter().map(|r| r["condensate_mass"].as_f64().unwrap()).collect();
    let regular: Vec<f64> = runs.iter().map(|r| r["regular_origin_mass"].as_f64().unwrap()).collect();
    eprintln!("blow-up times {times:?}, condensate {condensate:?}, r_h {regular:?}");
    // the crossing comes earlier and the steps between resolutions shrink (it converges)
    assert!(times.windows(2).all(|w| w[1] < w[0]), "{times:?}");
    assert!((times[0] - times[1]).abs() > (times[1] - times[2]).abs(), "{times:?}");
    assert!(times.iter().all(|&t| t > 0.0 && t < 0.02), "{times:?}");
    // the regular part of the origin cell shrinks with h; the condensate grows toward M − M_c
    assert!(regular.windows(2).all(|w| w[1] < w[0]), "{regular:?}");
    let excess = study["mass"].as_f64().unwrap() - study["critical_mass_box"].as_f64().unwrap();
    assert!(
        condensate.windows(2).all(|w| w[1] > w[0]) && condensate[2] < excess,
        "{condensate:?} vs {excess}"
    );
    for e in study["extrapolations"].as_array().unwrap() {
        let order = e["observed_order"].as_f64().unwrap();
        assert!(order > 0.1 && order < 3.0, "{e}");
    }
    let csv = std::fs::read_to_string(dir.path().join("blowup_1d_blowup/study.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4);
}
