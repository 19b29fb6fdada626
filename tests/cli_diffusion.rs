//! The `fpgen` binary end to end: `sample` and `check-theory`.

mod common;
use common::cli::*;
use std::path::Path;

/// `sample` writes the cloud, samples, trajectories and profiles per stopping time. For three
/// well-separated 1D Diracs at small t_min, u(t_min) is three Gaussians of σ = √(2 t_min),
/// so the 1.96σ tube holds 95% of exact samples (±4 SE = ±0.02 at 2000 samples) and every
/// sample sits on one point.
#[test]
fn sample_writes_samples_and_measures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = fpgen()
        .args(["sample", three_diracs_config().to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .args([
            "--set",
            "sampler.samples=2000",
            "--set",
            "sampler.steps=60",
            "--set",
            "sampler.t_min=[0.01, 0.001]",
            "--set",
            "output.npy=true",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = out.join("score_three_diracs_1d");
    for f in ["data.npy", "samples_0.npy", "samples_1.png", "trajectories_1.npy", "profiles.csv", "score.png"]
    {
        assert!(run.join(f).is_file(), "{f} missing");
    }
    assert!(!run.join("frames").exists());
    let summary = json_at(&run.join("summary.json"));
    let stops = summary["stops"].as_array().unwrap();
    assert_eq!(stops.len(), 2);
    let tube = stops[1]["tube_fraction"].as_f64().unwrap();
    assert!((tube - 0.95).abs() < 0.02, "tube share {tube}");
    assert_eq!(stops[1]["memorised_fraction"].as_f64().unwrap(), 1.0);
    let slope = summary["concentration_slope"].as_f64().unwrap();
    assert!((slope - 0.5).abs() < 0.05, "slope {slope}");
    // trajectories: (steps + 1, traced, d)
    let bytes = std::fs::read(run.join("trajectories_1.npy")).unwrap();
    let header = String::from_utf8_lossy(&bytes[..128]);
    assert!(header.contains("(61, 12, 1)"), "{header}");
}

/// `check-theory` passes on the three-Dirac config (heat, and linear OU) and fails (non-zero
/// exit, FAIL row) when the box cuts u(T) off.
#[test]
fn check_theory_passes_and_fails_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let base = |extra: &[&str]| {
        fpgen()
            .args(["check-theory", three_diracs_config().to_str().unwrap(), "--out", out.to_str().unwrap()])
            .args([
                "--quiet",
                "--force",
                "--set",
                "grid.cells=1500",
                "--set",
                "check.concentration_samples=1000",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let o = base(&[]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{table}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(table.contains("Li–Yau") && table.contains("L^∞ growth") && !table.contains("FAIL"), "{table}");
    let o = base(&["--set", "grid.half_width=8.0"]);
    assert_eq!(o.status.code(), Some(6), "a failed check");
    assert!(String::from_utf8_lossy(&o.stdout).contains("FAIL"));
    // linear OU (λ = 1) holds u(T) in that box, and every check, L^p included, runs and passes
    let o = base(&["--set", "grid.half_width=8.0", "--set", "process.lambda=1.0"]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{table}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        table.contains("L^2 growth") && table.contains("KL scheme error") && !table.contains("FAIL"),
        "{table}"
    );
}

/// `sample --backend gpu` runs the sampler on the device.
#[test]
fn gpu_sample_runs() {
    if fpgen::gpu::context::context_for_tests(1 << 16, 1).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = fpgen()
        .args(["sample", three_diracs_config().to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .args(["--backend", "gpu", "--set", "sampler.samples=2000", "--set", "sampler.t_min=0.01"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("score_three_diracs_1d/summary.json")).unwrap(),
    )
    .unwrap();
    assert_ne!(summary["device"], "cpu");
    let tube = summary["stops"][0]["tube_fraction"].as_f64().unwrap();
    assert!((tube - 0.95).abs() < 0.02, "tube share {tube}");
}

/// `check-theory --backend gpu` runs the grid backward equation on the device: it passes,
/// and its norm ratios and KL match the CPU run's (the device's densities are within 1e-5
/// of the CPU's, tests/gpu_score.rs; 1e-4 relative asserted here).
#[test]
fn gpu_check_theory_matches_the_cpu() {
    if fpgen::gpu::context::context_for_tests(1 << 16, 1).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let report = |backend: &str| -> serde_json::Value {
        let out = dir.path().join(backend);
        let o = fpgen()
            .args(["check-theory", three_diracs_config().to_str().unwrap(), "--out", out.to_str().unwrap()])
            .args(["--quiet", "--backend", backend, "--set", "grid.cells=1500"])
            .args(["--set", "check.concentration_samples=1000"])
            .output()
            .unwrap();
        let table = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && !table.contains("FAIL"),
            "{table}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_str(&std::fs::read_to_string(out.join("score_three_diracs_1d/check.json")).unwrap())
            .unwrap()
    };
    let (cpu, gpu) = (report("cpu"), report("gpu"));
    assert_eq!(cpu["backward_steps"], gpu["backward_steps"]);
    for key in ["norm2_ratio", "norm_inf_ratio", "kl"] {
        let values = |r: &serde_json::Value| -> Vec<f64> {
            r[key].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
        };
        for (a, b) in values(&cpu).iter().zip(values(&gpu)) {
            assert!((a - b).abs() <= 1e-4 * a.abs(), "{key}: cpu {a}, gpu {b}");
        }
    }
}

/// SIGINT stops `sample` within a sampler step, not at the end of its stopping time:
/// exit 130 soon after the signal, for a phase that would run for minutes.
#[cfg(unix)]
#[test]
fn sigint_stops_sample_within_a_stopping_time() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/score_two_diracs_ode.toml");
    let mut child = fpgen()
        .args(["sample", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .args(["--set", "sampler.steps=10000000", "--set", "sampler.trajectories=0"])
        .spawn()
        .unwrap();
    interrupt_once_written(&child, &out.join("score_two_diracs_ode/data.npy"));
    let signalled = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if signalled.elapsed().as_secs() > 20 {
            let _ = child.kill();
            panic!("sample did not stop within 20 s of SIGINT");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
    assert!(!out.join("score_two_diracs_ode/samples_0.npy").exists());
}

/// The sampler at λT = 300 (the largest accepted) gives finite samples; beyond, the config
/// is refused naming sampler.t_final instead of writing NaN samples with exit 0.
#[test]
fn large_lambda_t_samples_are_finite_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    let args = |t: &str| {
        let t_final = format!("sampler.t_final={t}");
        vec![
            "sample".to_string(),
            "configs/score_two_diracs_ode.toml".into(),
            "--out".into(),
            o.into(),
            "--quiet".into(),
            "--force".into(),
            "--set".into(),
            "process.lambda=1.0".into(),
            "--set".into(),
            t_final,
            "--set".into(),
            "sampler.samples=200".into(),
            "--set".into(),
            "output.npy=true".into(),
        ]
    };
    let run = |t: &str| {
        let a = args(t);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        exit_code_of(&refs)
    };
    let (code, err) = run("300.0");
    assert_eq!(code, Some(0), "{err}");
    let samples: ndarray::Array2<f64> =
        ndarray_npy::read_npy(out.join("score_two_diracs_ode/samples_0.npy")).unwrap();
    assert!(samples.iter().all(|x| x.is_finite()));
    let (code, err) = run("350.0");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`sampler.t_final`"), "{err}");
}
