//! The `fpgen` binary end to end: particle runs beside or instead of the grid.

mod common;
use common::cli::*;

/// A `[particles]` section runs the particle system after the grid solver: positions and
/// deposited densities at t = 0 and at the output times, and the L1 distance to the grid
/// snapshot at each of them in summary.json; `particles.only` skips the grid solver.
#[test]
fn particles_run_alongside_or_instead_of_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{TINY}\n[output]\nnpy = true\n[particles]\ncount = 2000\ndt = 0.004\nseed = 9\nsmoothing_sweeps = 1\n");
    let cfg = write_config(dir.path(), &text);
    let out = dir.path().join("out");
    let o = fpgen()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = out.join("tiny");
    let summary = json_at(&run.join("summary.json"));
    assert_eq!(summary["status"], "completed");
    let p = &summary["particles"];
    assert_eq!(p["count"], 2000);
    let outputs = p["outputs"].as_array().unwrap();
    let times: Vec<f64> = outputs.iter().map(|o| o["t"].as_f64().unwrap()).collect();
    assert_eq!(times, vec![0.0, 0.02, 0.05]);
    // 0.02 / 0.004 = 5 steps, then 0.03 / 0.004 → 8 steps of 0.00375
    assert_eq!(p["steps"], 13);
    for o in outputs {
        let l1 = o["l1_to_grid"].as_f64().unwrap();
        assert!(l1 > 0.0 && l1 < 2.0, "L1 {l1} (mass 2)");
        let x: ndarray::Array2<f64> =
            ndarray_npy::read_npy(run.join(o["positions"].as_str().unwrap())).unwrap();
        assert_eq!(x.shape(), &[2000, 2]);
        let f: ndarray::Array2<f64> =
            ndarray_npy::read_npy(run.join(o["density"].as_str().unwrap())).unwrap();
        let h = 8.0 / 21.0;
        assert!((f.sum() * h * h - 2.0).abs() < 1e-12);
    }

    let only = write_config(dir.path(), &format!("{text}only = true\n"));
    let o = fpgen()
        .args(["run", only.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--force"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = json_at(&run.join("summary.json"));
    assert!(summary.get("mass_initial").is_none(), "no grid run");
    assert!(summary["particles"]["outputs"][1]["l1_to_grid"].is_null());
    assert!(!run.join("f_final.npy").exists());
}

/// `run --backend gpu` with a `[particles]` section steps the particles on the device too.
#[test]
fn gpu_particles_run() {
    if fpgen::gpu::context::context_for_tests(4 * 21 * 21, 2).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{TINY}\n[particles]\ncount = 3000\ndt = 0.005\n");
    let cfg = write_config(dir.path(), &text);
    let out = dir.path().join("out");
    let o = fpgen()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--backend", "gpu"])
        .args(["--set", "run.precision=\"f32\""])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = json_at(&out.join("tiny/summary.json"));
    let p = &summary["particles"];
    assert_eq!(p["backend"], "gpu");
    assert_eq!(p["steps"], 10);
    let last = &p["outputs"][2];
    assert!(last["l1_to_grid"].as_f64().unwrap() < 2.0);
    assert!(out.join("tiny/particles/scatter_00000010.png").is_file());
}
