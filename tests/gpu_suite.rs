//! `scripts/gpu-suite.sh --rehearse`: the device script end to end on the adapter here
//! (lavapipe in CI), with this build's binary: every step exits 0, every output is written,
//! every verify comparison passes (6 runs × 3 pairs, two with several steps per pass),
//! and `bench-suite --quick` has its rows.

use std::path::Path;
use std::process::Command;

use fpgen::gpu::context::context_for_tests;

#[test]
fn the_gpu_suite_rehearses_end_to_end() {
    let Some(_) = context_for_tests(4 * 129 * 129, 2) else { return };
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gpu-suite.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("--rehearse")
        .env("OUT", dir.path())
        .env("FPGEN_BIN", env!("CARGO_BIN_EXE_fpgen"))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{log}\n{}", String::from_utf8_lossy(&out.stderr));
    for name in
        ["suite.log", "info.txt", "verify.txt", "bench_suite.txt", "bench_suite.json", "bench_suite.md"]
    {
        let size = std::fs::metadata(dir.path().join(name)).map(|m| m.len()).unwrap_or(0);
        assert!(size > 0, "{name} is missing or empty\n{log}");
    }
    let verify = std::fs::read_to_string(dir.path().join("verify.txt")).unwrap();
    assert_eq!(verify.matches(" PASS ").count(), 18, "{verify}");
    assert!(!verify.contains("FAIL"), "{verify}");
    // bench-suite --quick: every benchmark has its rows, at positive rates
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("bench_suite.json")).unwrap()).unwrap();
    let rates = [
        ("forward", "mcell_updates_per_second", 16),
        ("reverse_pde", "millions_per_second", 2),
        ("frames", "millions_per_second", 2),
        ("particles", "particle_steps_per_second", 2),
        ("score", "pair_evaluations_per_second", 3),
    ];
    for (kind, rate, rows) in rates {
        let list = report[kind].as_array().unwrap();
        assert_eq!(list.len(), rows, "{kind}: {report}");
        assert!(list.iter().all(|r| r[rate].as_f64().unwrap() > 0.0), "{kind}: {report}");
    }
    assert!(report["adapter"]["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(report["copy"]["gb_per_second"].as_f64().unwrap() > 0.0, "{report}");
    // forward: 2 sizes × 2 schemes × 2 integrators × (1 and the most steps per pass);
    // a pass moves 8 bytes per cell, so a step 8/k; one fastest k per group
    let forward = report["forward"].as_array().unwrap();
    for row in forward {
        let k = row["variant"]["steps_per_pass"].as_f64().unwrap();
        assert_eq!(row["bytes_per_cell_step"].as_f64().unwrap(), 8.0 / k, "{row}");
        assert_eq!(row["passes_per_step"].as_f64().unwrap(), 1.0 / k, "{row}");
        assert!(row["fraction_of_copy"].as_f64().unwrap() > 0.0, "{row}");
        assert!(row["rel_mass_change"].as_f64().unwrap().abs() < 1e-5, "{row}");
    }
    let most = [
        ("upwind", "euler", 5),
        ("upwind", "ssp-rk2", 2),
        ("gradient-flow", "euler", 4),
        ("gradient-flow", "ssp-rk2", 2),
    ];
    for cells in [129, 257] {
        for (scheme, integrator, k_max) in most {
            let group: Vec<&serde_json::Value> = forward
                .iter()
                .filter(|r| {
                    r["cells"] == cells
                        && r["variant"]["scheme"] == scheme
                        && r["variant"]["integrator"] == integrator
                })
                .collect();
            let ks: Vec<f64> =
                group.iter().map(|r| r["variant"]["steps_per_pass"].as_f64().unwrap()).collect();
            assert_eq!(ks, [1.0, k_max as f64], "{cells} {scheme}/{integrator}");
            assert_eq!(group.iter().filter(|r| r["best_k"] == true).count(), 1);
        }
    }
}

/// The copy kernel against its CPU twin (a slice copy), through the suite's measurement,
/// which checks them before timing.
#[test]
fn the_copy_kernel_copies() {
    let Some(ctx) = context_for_tests(1 << 20, 1) else { return };
    let row = fpgen::run::bench_device::measure_copy(&ctx, (1 << 20) + 4, 2, 1).unwrap();
    assert_eq!(row.bytes, (1 << 20) + 16, "rounded up to whole vec4s");
    assert!(row.gb_per_second > 0.0);
}
