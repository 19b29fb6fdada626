//! The `fpgen` binary end to end: `generate` and `filter`.

mod common;
use common::cli::*;
use std::path::Path;

/// `generate` writes the reconstruction, samples and a summary with the distances to f(0);
/// in the exact mode from f(T) the reconstruction is f(0) to round-off.
#[test]
fn generate_writes_reconstruction_samples_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    let status = fpgen()
        .args(["generate", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .args(["--set", "reverse.mode=\"exact\"", "--set", "reverse.start=\"terminal\""])
        .args(["--set", "reverse.particles=500", "--set", "reverse.sliced_w1_directions=8"])
        .args(["--set", "output.npy=true"])
        .status()
        .unwrap();
    assert!(status.success());
    let run = out.join("tiny");
    for f in ["initial.npy", "terminal.npy", "generated.npy", "generated.png", "samples.npy", "samples.png"] {
        assert!(run.join(f).is_file(), "missing {f}");
    }
    assert!(!run.join("snapshots").exists() && !run.join("snapshot_store").exists());
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    let c = &s["generated_vs_initial"];
    assert!(c["rel_l1"].as_f64().unwrap() < 1e-12, "{c}");
    assert!(c["kl"].as_f64().unwrap().abs() < 1e-12, "{c}");
    assert_eq!((c["w1_kind"].as_str(), c["w1_directions"].as_u64()), (Some("sliced"), Some(8)));
    let g = &s["generation"];
    assert_eq!(g["forward_steps"], g["reverse_steps"]);
    assert!(g["store_memory_bytes"].as_u64().unwrap() > 0);
    assert_eq!(g["particle_count"].as_u64(), Some(500));
    assert!(s["samples_vs_initial"]["rel_l1"].as_f64().unwrap() < 1.0);
    let samples: ndarray::Array2<f64> = ndarray_npy::read_npy(run.join("samples.npy")).unwrap();
    assert_eq!(samples.shape(), &[500, 2]);

    // a bad key is named
    let o = fpgen()
        .args(["generate", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--force"])
        .args(["--set", "reverse.eta=-1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("reverse.eta"));
}

/// `filter` writes one row per iterate (0 = the input) and keeps the mass.
#[test]
fn filter_writes_per_iteration_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    let status = fpgen()
        .args([
            "filter",
            cfg.to_str().unwrap(),
            "--iterations",
            "2",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .args(["--set", "reverse.mode=\"log-score\"", "--set", "reverse.start=\"terminal\""])
        .args(["--set", "initial.noise=0.3", "--set", "output.npy=true"])
        .status()
        .unwrap();
    assert!(status.success());
    let run = out.join("tiny");
    let csv = std::fs::read_to_string(run.join("filter.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("iteration,l1_to_input,l1_to_previous,total_variation,entropy,max"));
    for (k, line) in lines[1..].iter().enumerate() {
        let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        assert_eq!(v[0], k as f64);
        assert!((v[6] - 2.0).abs() < 1e-12, "mass {}", v[6]);
        if k > 0 {
            assert!(v[2] > 0.0);
        }
    }
    for f in ["strip.png", "iterate_0.npy", "iterate_2.npy", "summary.json"] {
        assert!(run.join(f).is_file(), "missing {f}");
    }
}

/// A filter run resumed from its last iterate equals the run that went through: 1
/// iteration, then `resume --iterations 3`, against 3 at once (iterates, strip, the CSV
/// but for its timings).
#[test]
fn a_resumed_filter_equals_the_filter_that_went_through() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    let (o, c) = (out.to_str().unwrap(), cfg.to_str().unwrap());
    let filter = |name: &str, iterations: &str| {
        let name = format!("name=\"{name}\"");
        exit_code_of(&[
            "filter",
            c,
            "--iterations",
            iterations,
            "--out",
            o,
            "--quiet",
            "--set",
            &name,
            "--set",
            "reverse.mode=\"log-score\"",
            "--set",
            "reverse.start=\"terminal\"",
            "--set",
            "initial.noise=0.3",
        ])
    };
    assert_eq!(filter("whole", "3").0, Some(0));
    assert_eq!(filter("parts", "1").0, Some(0));
    let (whole, parts) = (out.join("whole"), out.join("parts"));
    let (code, err) = exit_code_of(&["resume", parts.to_str().unwrap(), "--quiet", "--iterations", "3"]);
    assert_eq!(code, Some(0), "{err}");
    // no .npy iterates (the default): the resume reads them back from run.zarr
    assert!(!parts.join("iterate_0.npy").exists());
    let iterate = |run: &Path, k: usize| -> Vec<u64> {
        let store = fpgen::io::zarr::ZarrStore::open(&run.join("run.zarr")).unwrap();
        store.read_slab("iterate", k).unwrap().iter().map(|v| v.to_bits()).collect()
    };
    for k in 0..=3 {
        assert_eq!(iterate(&whole, k), iterate(&parts, k), "iterate {k}");
    }
    let same =
        |file: &str| std::fs::read(whole.join(file)).unwrap() == std::fs::read(parts.join(file)).unwrap();
    assert!(same("strip.png"));
    let without_seconds = |run: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(run.join("filter.csv")).unwrap();
        text.lines().map(|l| l.rsplit_once(',').unwrap().0.to_string()).collect()
    };
    assert_eq!(without_seconds(&whole), without_seconds(&parts));
    assert_eq!(json_at(&parts.join("summary.json"))["iterations_requested"], 3);
    // nothing left to do: a second resume changes no iterate
    let (code, err) = exit_code_of(&["resume", parts.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, Some(0), "{err}");
    let store = fpgen::io::zarr::ZarrStore::open(&parts.join("run.zarr")).unwrap();
    assert_eq!(store.len("iterate"), 4, "iterations 0 to 3");
}
