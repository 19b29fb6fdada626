//! `fpgen sweep` against a real SLURM: a one-node cluster on localhost
//! (`ci/slurm/start.sh`, started by CI). A 12-point job array completes and every point
//! equals the same point run locally with `--jobs 2`; a task cancelled mid-run (`scancel`)
//! is the only point a resubmitted array runs again, resumed from its checkpoint. Skips
//! loudly without a SLURM cluster unless FPGEN_REQUIRE_SLURM is set.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn fpgen() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fpgen"))
}

/// A SLURM cluster answering with an idle node, else a loud skip (or a failure when
/// FPGEN_REQUIRE_SLURM is set).
fn slurm_available() -> bool {
    let up = Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("idle"));
    if !up {
        if std::env::var_os("FPGEN_REQUIRE_SLURM").is_some() {
            panic!(
                "FPGEN_REQUIRE_SLURM is set but no SLURM cluster answers (start one with ci/slurm/start.sh)"
            );
        }
        eprintln!("SKIPPED: no SLURM cluster (sinfo shows no idle node); ci/slurm/start.sh starts one");
    }
    up
}

fn status(run: &Path) -> String {
    let text = std::fs::read_to_string(run.join("summary.json")).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    v["status"].as_str().unwrap_or("missing").to_string()
}

fn write_spec(dir: &Path, name: &str, base: &str, set: &str, axes: &str) -> std::path::PathBuf {
    std::fs::write(dir.join(format!("{name}_base.toml")), base).unwrap();
    let spec = dir.join(format!("{name}.toml"));
    std::fs::write(
        &spec,
        format!("name = \"{name}\"\nbase = \"{name}_base.toml\"\nset = {{ {set} }}\n[axes]\n{axes}\n"),
    )
    .unwrap();
    spec
}

fn sbatch(script: &Path, wait: bool) -> String {
    let mut command = Command::new("sbatch");
    command.arg("--parsable");
    if wait {
        command.arg("--wait");
    }
    let out = command.arg(script).output().unwrap();
    assert!(out.status.success(), "sbatch: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().split(';').next().unwrap().to_string()
}

fn emit(spec: &Path, out: &Path, extra: &[&str]) -> std::path::PathBuf {
    let o = fpgen()
        .args(["sweep", spec.to_str().unwrap(), "--out", out.to_str().unwrap(), "--emit", "slurm"])
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::path::PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
}

#[test]
fn a_job_array_runs_every_point_as_the_local_sweep_does() {
    if !slurm_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(
        dir.path(),
        "twelve",
        common::SWEEP_BASE_1D,
        "\"run.output_every\" = 0.05",
        "\"initial.mass_ratio\" = [0.3, 0.6, 0.9, 1.2]\n\"grid.cells\" = [51, 101, 151]",
    );
    let (cluster, local) = (dir.path().join("cluster"), dir.path().join("local"));
    let script = emit(&spec, &cluster, &["--max-parallel", "4", "--cpus", "1"]);
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.contains("#SBATCH --array=0-11%4"), "{text}");
    sbatch(&script, true);
    let o = fpgen()
        .args(["sweep", spec.to_str().unwrap(), "--out", local.to_str().unwrap(), "--jobs", "2", "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cluster.join("twelve/sweep.json")).unwrap()).unwrap();
    let points = manifest["points"].as_array().unwrap();
    assert_eq!(points.len(), 12);
    for p in points {
        let name = p["name"].as_str().unwrap();
        let (a, b) = (cluster.join("twelve").join(name), local.join("twelve").join(name));
        assert_eq!(status(&a), "completed", "{name} on the cluster");
        assert_eq!(status(&b), "completed", "{name} locally");
        for file in ["f_final.npy", "diagnostics.csv"] {
            assert_eq!(
                std::fs::read(a.join(file)).unwrap(),
                std::fs::read(b.join(file)).unwrap(),
                "{name}/{file}"
            );
        }
    }
    // each task logged its point
    let logs = std::fs::read_dir(cluster.join("twelve/logs")).unwrap().count();
    assert_eq!(logs, 12);
    // collect: a table with a row per point
    let o = fpgen().args(["collect", cluster.join("twelve").to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(cluster.join("twelve/collect.csv")).unwrap();
    assert_eq!(csv.lines().count(), 13);
    assert!(csv.starts_with("index,point,grid.cells,initial.mass_ratio,status,steps"), "{csv}");
}

#[test]
fn a_resubmitted_array_runs_only_the_cancelled_point() {
    if !slurm_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // three points of some seconds each (2D, 257², to t = 10)
    let base = common::SWEEP_BASE_1D
        .replace("dim = 1", "dim = 2")
        .replace("cells = 101", "cells = 257")
        .replace("centres = [-1.5, 1.0]", "centres = [[-1.5, 0.0], [1.0, 0.5]]")
        .replace("t_final = 0.1", "t_final = 10.0");
    let spec = write_spec(
        dir.path(),
        "three",
        &base,
        "\"run.output_every\" = 5.0",
        "\"initial.mass_ratio\" = [0.2, 0.3, 0.4]",
    );
    let out = dir.path().join("out");
    let script = emit(&spec, &out, &["--cpus", "1"]);
    let job = sbatch(&script, false);
    let sweep = out.join("three");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sweep.join("sweep.json")).unwrap()).unwrap();
    let names: Vec<String> = manifest["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    // cancel task 1 once its run has started
    let clock = Instant::now();
    while !sweep.join(&names[1]).join("diagnostics.csv").exists() {
        assert!(clock.elapsed() < Duration::from_secs(120), "task 1 never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let o = Command::new("scancel").arg(format!("{job}_1")).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let clock = Instant::now();
    loop {
        let q = Command::new("squeue").args(["-h", "-j", &job]).output().unwrap();
        if String::from_utf8_lossy(&q.stdout).trim().is_empty() {
            break;
        }
        assert!(clock.elapsed() < Duration::from_secs(300), "the array did not finish");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(status(&sweep.join(&names[0])), "completed");
    assert_eq!(status(&sweep.join(&names[2])), "completed");
    // SIGTERM from scancel: the run stopped at a step boundary with its checkpoint
    assert_eq!(status(&sweep.join(&names[1])), "interrupted");
    assert!(sweep.join(&names[1]).join("checkpoint").exists());
    let finished_before: Vec<Vec<u8>> =
        [0, 2].iter().map(|&i| std::fs::read(sweep.join(&names[i]).join("summary.json")).unwrap()).collect();

    let again = sbatch(&script, true);
    assert_eq!(status(&sweep.join(&names[1])), "completed");
    for (k, &i) in [0, 2].iter().enumerate() {
        let now = std::fs::read(sweep.join(&names[i]).join("summary.json")).unwrap();
        assert_eq!(now, finished_before[k], "point {i} ran again");
        let log = std::fs::read_to_string(sweep.join("logs").join(format!("slurm-{again}_{i}.out"))).unwrap();
        assert!(log.contains("already completed"), "{log}");
    }
    let log = std::fs::read_to_string(sweep.join("logs").join(format!("slurm-{again}_1.out"))).unwrap();
    assert!(log.contains("completed (resumed)"), "{log}");
    // the resumed point equals the same point run through
    let o = fpgen()
        .args(["sweep", spec.to_str().unwrap(), "--out", dir.path().join("local").to_str().unwrap()])
        .args(["--index", "1", "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(sweep.join(&names[1]).join("f_final.npy")).unwrap(),
        std::fs::read(dir.path().join("local/three").join(&names[1]).join("f_final.npy")).unwrap()
    );
}
