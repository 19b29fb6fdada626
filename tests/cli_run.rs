//! The `fpgen` binary end to end: `fpgen run`: run directories, stops, exit codes, limits, signals.

mod common;
use common::cli::*;
use std::path::Path;

#[test]
fn run_writes_a_complete_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    let status = fpgen()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .args(["--set", "scheme.integrator=\"ssp-rk2\""])
        .status()
        .unwrap();
    assert!(status.success());
    let run = out.join("tiny");
    for f in [
        "config.toml",
        "diagnostics.csv",
        "diagnostics.png",
        "summary.json",
        "f_final.npy",
        "run.zarr/zarr.json",
    ] {
        assert!(run.join(f).is_file(), "missing {f}");
    }
    assert!(!run.join("kymograph.png").exists(), "a kymograph is for 1D runs");
    // The resolved config holds the override and every default.
    let resolved = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(resolved.contains("integrator = \"ssp-rk2\"") && resolved.contains("safety = 0.9"), "{resolved}");
    // Snapshots at t = 0, 0.02 and the end (in run.zarr; .npy only on request), each with a
    // frame.
    assert!(!run.join("snapshots").exists(), "no .npy snapshots unless output.snapshots = true");
    let frames = std::fs::read_dir(run.join("frames")).unwrap().count();
    assert_eq!(frames, 3);
    // Summary fields and values.
    let summary = json_at(&run.join("summary.json"));
    for key in [
        "backend",
        "precision",
        "steps",
        "t_final",
        "mass_initial",
        "mass_final",
        "max_rel_mass_drift",
        "origin_cell_mass",
        "condensation_time",
        "wall_seconds",
        "cell_updates_per_second",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    assert_eq!(summary["backend"], "cpu");
    assert_eq!(summary["status"], "completed");
    assert!(summary["condensation_time"].is_null());
    let times: Vec<f64> =
        summary["snapshot_times"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(times, [0.0, 0.02, 0.05]);
    // where it comes from
    let p = &summary["provenance"];
    assert_eq!(p["fpgen_version"], env!("CARGO_PKG_VERSION"));
    assert!(p["git_commit"].as_str().unwrap().len() >= 7, "{p}");
    assert_eq!(p["command_line"][1], "run");
    for key in ["started_at", "ended_at"] {
        let t = p[key].as_str().unwrap();
        assert!(t.len() == 20 && t.ends_with('Z') && t.as_bytes()[10] == b'T', "{key}: {t}");
    }
    // integer columns are integers
    let csv = std::fs::read_to_string(run.join("diagnostics.csv")).unwrap();
    let steps: Vec<u64> =
        csv.lines().skip(1).map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
    assert_eq!(steps.first(), Some(&0));
    assert!((summary["t_final"].as_f64().unwrap() - 0.05).abs() < 1e-15);
    assert!((summary["mass_initial"].as_f64().unwrap() - 2.0).abs() < 1e-12);
    assert!(summary["max_rel_mass_drift"].as_f64().unwrap() < 1e-13);
    // The final field loads as a float64 array of shape (21, 21) with the final mass.
    let f: ndarray::Array2<f64> = ndarray_npy::read_npy(run.join("f_final.npy")).unwrap();
    assert_eq!(f.shape(), &[21, 21]);
    let h = 8.0 / 21.0;
    assert!((f.sum() * h * h - 2.0).abs() < 1e-12);
    // diagnostics.csv: header and one row per 5 steps (plus t = 0 and output times).
    let csv = std::fs::read_to_string(run.join("diagnostics.csv")).unwrap();
    assert!(csv.starts_with("step,t,dt,mass,rel_mass_drift,min,max,l2,entropy,second_moment,origin_mass\n"));
    assert!(csv.lines().count() >= 3);

    // A second run into the same directory is refused without --force.
    let again = fpgen()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2), "an existing run directory is bad input");
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let forced = fpgen()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--force"])
        .status()
        .unwrap();
    assert!(forced.success());
}

#[test]
fn condensation_stop_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    let o = fpgen()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .args(["--set", "initial.mass=30.0", "--set", "stop.max_density=40", "--set", "run.t_final=2.0"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = json_at(&out.join("tiny/summary.json"));
    assert_eq!(summary["status"], "condensed");
    let t = summary["condensation_time"].as_f64().unwrap();
    assert!(t > 0.0 && t < 2.0);
    assert_eq!(summary["stop"]["reason"], "density-bound");
    assert!(out.join("tiny/f_final.npy").is_file());
}

#[test]
fn config_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &TINY.replace("beta = 1.0", "beta = 1.0\nbeat = 2.0"));
    let o =
        fpgen().args(["run", cfg.to_str().unwrap(), "--out", dir.path().to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("beat"), "{err}");

    let cfg = write_config(dir.path(), TINY);
    let o = fpgen()
        .args(["run", cfg.to_str().unwrap(), "--out", dir.path().to_str().unwrap(), "--set", "scheme.dt=1.0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("`scheme.dt`") && err.contains("positivity bound"), "{err}");
}

/// `run --backend gpu` end to end (skips loudly without an adapter, unless required).
#[test]
fn gpu_run_writes_a_run_directory() {
    if fpgen::gpu::context::context_for_tests(4 * 21 * 21, 2).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    let o = fpgen()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--backend", "gpu"])
        .args(["--set", "run.precision=\"f32\""])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = json_at(&out.join("tiny/summary.json"));
    assert_eq!(summary["backend"], "gpu");
    assert_eq!(summary["precision"], "f32");
    assert_eq!(summary["status"], "completed");
    assert!((summary["t_final"].as_f64().unwrap() - 0.05).abs() < 1e-12);
    assert!(summary["max_rel_mass_drift"].as_f64().unwrap() < 1e-5);
    assert!(summary["device"].as_str().unwrap().len() > 3);
    assert_eq!(summary["snapshot_times"].as_array().unwrap().len(), 3, "three snapshots in run.zarr");
    // 2D frames are colour-mapped on the device, all with the range of the initial density
    assert_eq!(summary["frames_drawn_on"], "device");
    assert_eq!(summary["frames"].as_array().unwrap().len(), 3);
    assert_eq!(summary["frame_scale"]["lo"], 0.0);
    assert!(summary["frame_scale"]["hi"].as_f64().unwrap() > 0.0);
}

/// Every shipped config loads and validates.
#[test]
fn shipped_configs_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            // score_*: score-based diffusion configs (`fpgen sample`, `fpgen check-theory`)
            let is_score = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("score_"));
            let loaded = if is_score {
                fpgen::config::diffusion::DiffusionConfig::load(&path, &[])
                    .and_then(|c| c.cloud().map(|_| ()))
            } else {
                fpgen::config::Config::load(&path, &[]).map(|_| ())
            };
            loaded.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            count += 1;
        }
    }
    assert!(count >= 7, "{count} configs");
}

/// A run name that is not one folder name is refused before anything is touched, even
/// with --force; a run directory holds only what the run writes (no empty folders).
#[test]
fn run_names_stay_inside_out_and_run_dirs_hold_only_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let sibling = dir.path().join("keep.txt");
    std::fs::write(&sibling, "precious").unwrap();
    for name in ["..", "."] {
        let output = fpgen()
            .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--force"])
            .args(["--set", &format!("name=\"{name}\"")])
            .output()
            .unwrap();
        assert!(!output.status.success(), "name {name:?} was accepted");
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(err.contains("`name`"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(&sibling).unwrap(), "precious");
    assert!(cfg.exists() && out.exists());
    let status = fpgen()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .args(["--set", "output.frames=false", "--set", "output.snapshots=false"])
        .status()
        .unwrap();
    assert!(status.success());
    let mut names: Vec<String> = std::fs::read_dir(out.join("tiny"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["config.toml", "diagnostics.csv", "f_final.npy", "run.zarr", "summary.json"]);
}

/// `run.wall_time_limit` stops a run at a step boundary with status `wall-time`, the final
/// state and the summary written; a non-positive limit is refused naming the key.
#[test]
fn wall_time_limit_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    let status = fpgen()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .args(["--set", "run.wall_time_limit=1e-9", "--set", "run.t_final=100.0"])
        .status()
        .unwrap();
    assert!(status.success());
    let run = out.join("tiny");
    let summary = json_at(&run.join("summary.json"));
    assert_eq!(summary["status"], "wall-time", "{summary}");
    assert!(summary["t_final"].as_f64().unwrap() < 100.0);
    assert!(run.join("f_final.npy").is_file());
    let output = fpgen()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--force"])
        .args(["--set", "run.wall_time_limit=0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("run.wall_time_limit"));
}

/// Exit codes by class: a fixed Δt that turns unstable during the run and an f32 mass that
/// underflows are numerical failures (3, after the summary says `failed`); an initial
/// density above stop.max_density and unsorted check times are bad input (2).
#[test]
fn failures_exit_with_their_class() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    let (o, c) = (out.to_str().unwrap(), cfg.to_str().unwrap());
    // a fixed Δt just under the bound at t = 0: the density gathers, the bound falls
    // below the step and the run fails
    let gathering = "[model]\ndim = 1\ngamma = 3.0\n[grid]\nhalf_width = 6.0\ncells = 121\n[initial]\nkind = \"uniform-box\"\nmass = 11.7\nlower = -5.0\nupper = 5.0\n[run]\nt_final = 10.0\n[stop]\nmax_density = 1e30\ndt_collapse_fraction = 1e-12\n";
    let gathering_path = dir.path().join("unstable.toml");
    std::fs::write(&gathering_path, gathering).unwrap();
    let problem = fpgen::forward::Problem::from_config(
        &fpgen::config::Config::from_toml_str(gathering, "unstable", &[]).unwrap(),
    )
    .unwrap();
    let mut backend = fpgen::forward::create(&problem, &fpgen::gpu::Device::Cpu).unwrap();
    backend.upload(&problem.initial, 0.0).unwrap();
    let dt = format!("scheme.dt={:e}", 0.99 * backend.dt_bound());
    let (code, err) =
        exit_code_of(&["run", gathering_path.to_str().unwrap(), "--out", o, "--quiet", "--set", &dt]);
    assert_eq!(code, Some(3), "{err}");
    let summary = json_at(&out.join("unstable/summary.json"));
    assert_eq!(summary["status"], "failed", "{summary}");
    // an f32 field whose mass underflows is not "completed"
    let (code, err) = exit_code_of(&[
        "run",
        c,
        "--out",
        o,
        "--quiet",
        "--set",
        "name=\"tiny_mass\"",
        "--set",
        "run.precision=\"f32\"",
        "--set",
        "initial.mass=1e-44",
    ]);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("mass not conserved"), "{err}");
    let (code, err) = exit_code_of(&[
        "run",
        c,
        "--out",
        o,
        "--quiet",
        "--set",
        "name=\"dense\"",
        "--set",
        "stop.max_density=1e-3",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("stop.max_density"), "{err}");
    let (code, err) = exit_code_of(&[
        "check-theory",
        "configs/score_three_diracs_1d.toml",
        "--out",
        o,
        "--set",
        "check.times=[0.1, 0.5]",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("check.times"), "{err}");
}

/// `--force` replaces an old run only once the new one has started: a new run that fails
/// at its start (a bad fixed Δt) leaves the old results in place and no stub; a batch
/// re-run without --force does not overwrite batch.csv.
#[test]
fn force_keeps_old_results_when_the_new_run_fails_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    let (o, c) = (out.to_str().unwrap(), cfg.to_str().unwrap());
    assert_eq!(exit_code_of(&["run", c, "--out", o, "--quiet"]).0, Some(0));
    let old = std::fs::read(out.join("tiny/f_final.npy")).unwrap();
    let (code, err) = exit_code_of(&["run", c, "--out", o, "--quiet", "--force", "--set", "scheme.dt=1.0"]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(std::fs::read(out.join("tiny/f_final.npy")).unwrap(), old, "the old run is intact");
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["tiny"], "no temporary sibling is left");
    // a started run replaces it
    let (code, err) =
        exit_code_of(&["run", c, "--out", o, "--quiet", "--force", "--set", "run.t_final=0.03"]);
    assert_eq!(code, Some(0), "{err}");
    let summary = json_at(&out.join("tiny/summary.json"));
    assert_eq!(summary["t_final_requested"], 0.03);
    // batch.csv is not overwritten without --force
    let batch_out = dir.path().join("batch");
    let b = batch_out.to_str().unwrap();
    assert_eq!(exit_code_of(&["batch", c, "--out", b, "--quiet"]).0, Some(0));
    let csv = std::fs::read_to_string(batch_out.join("batch.csv")).unwrap();
    let (code, err) = exit_code_of(&["batch", c, "--out", b, "--quiet"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("batch.csv"), "{err}");
    assert_eq!(std::fs::read_to_string(batch_out.join("batch.csv")).unwrap(), csv);
}

/// SIGINT stops a run at the next step boundary: exit 130, summary.json with status
/// `interrupted`, the state at that time in f_final.npy, complete CSV rows.
#[cfg(unix)]
#[test]
fn sigint_stops_a_run_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    let mut child = fpgen()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .args(["--set", "run.t_final=1e9", "--set", "run.output_times=[]", "--set", "grid.cells=101"])
        .args(["--set", "output.frames=false", "--set", "stop.dt_collapse_fraction=1e-300"])
        .spawn()
        .unwrap();
    // interrupt once the run has started (its diagnostics file exists)
    let csv = out.join("tiny/diagnostics.csv");
    interrupt_once_written(&child, &csv);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let summary = json_at(&out.join("tiny/summary.json"));
    assert_eq!(summary["status"], "interrupted", "{summary}");
    assert!(summary["steps"].as_u64().unwrap() > 0);
    assert!(out.join("tiny/f_final.npy").is_file());
    let text = std::fs::read_to_string(&csv).unwrap();
    let last = text.lines().last().unwrap();
    assert_eq!(last.split(',').count(), 11, "the last row is complete: {last}");
    // the interrupted run goes on from its checkpoint
    assert!(out.join("tiny/checkpoint/state.json").is_file());
    let t = summary["t_final"].as_f64().unwrap();
    let (code, err) = exit_code_of(&[
        "resume",
        out.join("tiny").to_str().unwrap(),
        "--quiet",
        "--t-final",
        &format!("{:e}", t * 1.001 + 1e-3),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(json_at(&out.join("tiny/summary.json"))["status"], "completed");
}

/// Sizes that would wrap, abort or spin are refused before anything is allocated, each
/// naming its key (exit 2): N^d beyond 2^31, a grid over the memory budget, snapshot and
/// pixel counts, thread counts, particle and data counts over the budget.
#[test]
fn resource_limits_are_refused_with_their_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    let (o, c) = (out.to_str().unwrap(), cfg.to_str().unwrap());
    for (set, key) in [
        ("grid.cells=4294967296", "grid.cells"),
        ("grid.cells=1000001", "grid.cells"),
        ("run.output_every=1e-300", "run.output_every"),
        ("output.min_pixels=200000", "output.min_pixels"),
        ("run.threads=100000", "run.threads"),
    ] {
        let (code, err) = exit_code_of(&["run", c, "--out", o, "--quiet", "--set", set]);
        assert_eq!(code, Some(2), "{set}: {err}");
        assert!(err.contains(&format!("`{key}`")), "{set}: {err}");
    }
    // a budget set by --max-memory
    let (code, err) =
        exit_code_of(&["run", c, "--out", o, "--quiet", "--max-memory", "1M", "--set", "grid.cells=1001"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`grid.cells`") && err.contains("GiB"), "{err}");
    let (code, err) = exit_code_of(&[
        "run",
        c,
        "--out",
        o,
        "--quiet",
        "--max-memory",
        "1G",
        "--set",
        "particles.count=4000000000",
        "--set",
        "particles.dt=0.01",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`particles.count`"), "{err}");
    let (code, err) = exit_code_of(&[
        "sample",
        "configs/score_lemniscate_empirical.toml",
        "--out",
        o,
        "--max-memory",
        "1G",
        "--set",
        "data.count=1000000000000",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`data.count`"), "{err}");
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none(), "nothing was created");
}

/// A run whose simulated time stops advancing (β = 1e30: a step bound of ~1e-32) ends with
/// status `stalled` and exit 3 instead of crawling for hours; `run.stall_steps = 0` turns
/// the watchdog off.
#[test]
fn a_stalled_run_stops() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    let (o, c) = (out.to_str().unwrap(), cfg.to_str().unwrap());
    let (code, err) = exit_code_of(&[
        "run",
        c,
        "--out",
        o,
        "--quiet",
        "--set",
        "model.beta=1e30",
        "--set",
        "run.stall_steps=500",
    ]);
    assert_eq!(code, Some(3), "{err}");
    let summary = json_at(&out.join("tiny/summary.json"));
    assert_eq!(summary["status"], "stalled", "{summary}");
    assert_eq!(summary["steps"], 500);
    let (code, err) = exit_code_of(&[
        "run",
        c,
        "--out",
        o,
        "--quiet",
        "--force",
        "--set",
        "model.beta=1e30",
        "--set",
        "run.stall_steps=0",
        "--set",
        "run.max_steps=700",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let summary = json_at(&out.join("tiny/summary.json"));
    assert_eq!(summary["status"], "max-steps", "{summary}");
}

/// A NaN stop on the CPU keeps the last finite state: f_final.npy is finite, the summary
/// names its time and step, and no snapshot time repeats.
#[test]
fn a_nan_stop_keeps_the_last_finite_state() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &TINY
            .replace("mass = 2.0", "mass = 1e150")
            .replace("diagnostics_every = 5", "diagnostics_every = 5\n[stop]\nmax_density = 1e300"),
    );
    let out = dir.path().join("out");
    let (code, err) =
        exit_code_of(&["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, Some(3), "{err}");
    let run = out.join("tiny");
    let f: ndarray::Array2<f64> = ndarray_npy::read_npy(run.join("f_final.npy")).unwrap();
    assert!(f.iter().all(|v| v.is_finite()), "f_final.npy holds the last finite state");
    let summary = json_at(&run.join("summary.json"));
    assert_eq!(summary["status"], "failed");
    assert!(summary["message"].as_str().unwrap().contains("last finite state"), "{summary}");
    let times: Vec<f64> =
        summary["snapshot_times"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[1] > w[0]), "snapshot times repeat: {times:?}");
    assert!(err.contains(&run.join("f_final.npy").display().to_string()), "{err}");
}

/// Printing into a closed pipe (`fpgen info | head -1`) ends the process quietly, as
/// command-line tools do, instead of panicking. The read end is closed before `info` has
/// enumerated the adapters and printed anything.
#[cfg(unix)]
#[test]
fn printing_into_a_closed_pipe_does_not_panic() {
    use std::os::unix::process::ExitStatusExt;
    let mut child = fpgen()
        .arg("info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success() || out.status.signal() == Some(13), "{:?}", out.status);
}
