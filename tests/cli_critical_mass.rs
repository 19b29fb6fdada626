//! The `fpgen` binary end to end: `critical-mass`.

mod common;
use common::cli::*;

#[test]
fn critical_mass_prints_json() {
    let o = fpgen()
        .args(["critical-mass", "--dim", "2", "--gamma", "2", "--box-half-width", "6"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mc = v["critical_mass"].as_f64().unwrap();
    assert!((mc - std::f64::consts::PI.powi(2)).abs() < 1e-9);
    let mc_box = v["critical_mass_box"].as_f64().unwrap();
    assert!(mc_box < mc && mc_box > 0.99 * mc);
    assert_eq!(v["condenses_for_mass_above"].as_f64().unwrap(), mc_box);

    let o = fpgen().args(["critical-mass", "--dim", "1", "--gamma", "2"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["finite"], false);
    assert!(v["critical_mass"].is_null());
    assert!(v["note"].as_str().unwrap().contains("infinite"));
}

#[test]
fn critical_mass_writes_the_grid_profile() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f_theta.npy");
    let o = fpgen()
        .args(["critical-mass", "--dim", "2", "--gamma", "2", "--box-half-width", "6", "--mass", "4.0"])
        .args(["--cells", "41", "--profile", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["grid_theta"].as_f64().unwrap() > 0.0);
    let f: ndarray::Array2<f64> = ndarray_npy::read_npy(&path).unwrap();
    let h = 12.0 / 41.0;
    assert!((f.sum() * h * h - 4.0).abs() < 1e-9, "discrete mass {}", f.sum() * h * h);
    // without --cells the profile cannot be made
    let o = fpgen()
        .args(["critical-mass", "--dim", "2", "--gamma", "2", "--box-half-width", "6", "--mass", "4.0"])
        .args(["--profile", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!o.status.success());
}
