//! The `fpgen` binary end to end: `resume`: a resumed run equals the run that went through.

mod common;
use common::cli::*;
use std::path::Path;

/// A run stopped at a random step and resumed equals, byte for byte, the run that went
/// through: f_final.npy, diagnostics.csv, the snapshots, and every summary field but the
/// timings (CPU f64 and f32; on lavapipe, see the device case below).
#[test]
fn a_resumed_run_equals_the_run_that_went_through() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &resumable());
    let out = dir.path().join("out");
    let (o, c) = (out.to_str().unwrap(), cfg.to_str().unwrap());
    // steps 17 and 34 land on output times; the whole run takes 51 steps
    for (precision, stop_at) in [("f64", 37), ("f32", 23), ("f64", 17), ("f32", 34), ("f64", 1)] {
        let p = format!("run.precision=\"{precision}\"");
        let (code, err) = exit_code_of(&[
            "run",
            c,
            "--out",
            o,
            "--quiet",
            "--force",
            "--set",
            &p,
            "--set",
            "name=\"whole\"",
        ]);
        assert_eq!(code, Some(0), "{err}");
        let stop = format!("run.max_steps={stop_at}");
        let (code, err) = exit_code_of(&[
            "run",
            c,
            "--out",
            o,
            "--quiet",
            "--force",
            "--set",
            &p,
            "--set",
            "name=\"parts\"",
            "--set",
            &stop,
        ]);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(
            json_at(&out.join("parts/summary.json"))["status"],
            "max-steps",
            "{precision}, stop at {stop_at}: {err}"
        );
        let parts = out.join("parts");
        let (code, err) =
            exit_code_of(&["resume", parts.to_str().unwrap(), "--quiet", "--set", "run.max_steps=100000000"]);
        assert_eq!(code, Some(0), "{err}");
        let whole = out.join("whole");
        let same =
            |file: &str| std::fs::read(whole.join(file)).unwrap() == std::fs::read(parts.join(file)).unwrap();
        assert!(same("f_final.npy"), "{precision}, stop at {stop_at}: f_final.npy");
        assert_eq!(
            std::fs::read_to_string(whole.join("diagnostics.csv")).unwrap(),
            std::fs::read_to_string(parts.join("diagnostics.csv")).unwrap(),
            "{precision}, stop at {stop_at}"
        );
        let (a, b) = (summary_but_timings(&whole), summary_but_timings(&parts));
        assert_eq!(a, b, "{precision}, stop at {stop_at}: summary");
        for name in a["snapshots"].as_array().unwrap() {
            let name = name.as_str().unwrap();
            assert!(same(name), "{precision}, stop at {stop_at}: {name}");
        }
    }
    let (code, err) = exit_code_of(&["run", c, "--out", o, "--quiet", "--force", "--set", "name=\"whole\""]);
    assert_eq!(code, Some(0), "{err}");
    // a periodic checkpoint resumes the same: every 10 steps (the last at step 50 of 51), and
    // by wall time (with a limit of 1 ns every diagnostics boundary is due, the last, step
    // 51, included: the finished run's state, cut back to its step)
    for (name, key, last) in
        [("periodic", "run.checkpoint_every=10", 50), ("timed", "run.checkpoint_seconds=1e-9", 51)]
    {
        let name_key = format!("name=\"{name}\"");
        let (code, err) =
            exit_code_of(&["run", c, "--out", o, "--quiet", "--force", "--set", &name_key, "--set", key]);
        assert_eq!(code, Some(0), "{err}");
        let run = out.join(name);
        let state = std::fs::read_to_string(run.join("checkpoint/state.json")).unwrap();
        assert!(state.contains(&format!("\"step\": {last}")), "{name}: {state}");
        let (code, err) = exit_code_of(&["resume", run.to_str().unwrap(), "--quiet"]);
        assert_eq!(code, Some(0), "{err}");
        for file in ["f_final.npy", "diagnostics.csv"] {
            assert_eq!(
                std::fs::read(out.join("whole").join(file)).unwrap(),
                std::fs::read(run.join(file)).unwrap(),
                "{name}: {file}"
            );
        }
    }
}

/// On the device too, a run stopped at a step (on and off output times) and resumed equals
/// the run that went through, byte for byte: the checkpoint keeps the device's compensated
/// time pair and step bound.
#[test]
fn a_resumed_gpu_run_equals_the_run_that_went_through() {
    if fpgen::gpu::context::context_for_tests(4 * 41 * 41, 2).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &resumable());
    let out = dir.path().join("out");
    let (o, c) = (out.to_str().unwrap(), cfg.to_str().unwrap());
    let gpu = ["--backend", "gpu", "--set", "run.precision=\"f32\""];
    let run = |extra: &[&str]| {
        let mut args = vec!["run", c, "--out", o, "--quiet", "--force"];
        args.extend(gpu);
        args.extend(extra);
        exit_code_of(&args)
    };
    assert_eq!(run(&["--set", "name=\"whole\""]).0, Some(0));
    let (whole, parts) = (out.join("whole"), out.join("parts"));
    for stop_at in [17, 23] {
        let stop = format!("run.max_steps={stop_at}");
        assert_eq!(run(&["--set", "name=\"parts\"", "--set", &stop]).0, Some(0));
        let (code, err) = exit_code_of(&[
            "resume",
            parts.to_str().unwrap(),
            "--quiet",
            "--backend",
            "gpu",
            "--set",
            "run.max_steps=100000000",
        ]);
        assert_eq!(code, Some(0), "{err}");
        for file in ["f_final.npy", "diagnostics.csv"] {
            assert!(
                std::fs::read(whole.join(file)).unwrap() == std::fs::read(parts.join(file)).unwrap(),
                "stop at {stop_at}: {file}"
            );
        }
    }
}

/// With particles too: a run whose particles stop at `run.max_steps` (the grid's 51 steps
/// finish; the particles' 150 stop at the output time after step 60, t = 0.2) and are
/// resumed equals the run that went through, byte for byte (positions, densities,
/// summary); and a run whose grid stops first starts its particles only on resume. On the
/// CPU in f64 and f32, and on the device.
#[test]
fn a_resumed_run_with_particles_equals_the_run_that_went_through() {
    let gpu = fpgen::gpu::context::context_for_tests(4 * 41 * 41, 2).is_some();
    let dir = tempfile::tempdir().unwrap();
    let text = resumable() + "[particles]\ncount = 500\ndt = 0.002\nseed = 3\n[output]\nnpy = true\n";
    let cfg = write_config(dir.path(), &text);
    let out = dir.path().join("out");
    let (o, c) = (out.to_str().unwrap(), cfg.to_str().unwrap());
    let mut cases = vec![("f64", "cpu"), ("f32", "cpu")];
    if gpu {
        cases.push(("f32", "gpu"));
    }
    for (precision, backend) in cases {
        let p = format!("run.precision=\"{precision}\"");
        let run = |name: &str, extra: &[&str]| {
            let name = format!("name=\"{name}\"");
            let mut args = vec!["run", c, "--out", o, "--quiet", "--force", "--backend", backend];
            args.extend(["--set", &p, "--set", &name]);
            args.extend(extra);
            exit_code_of(&args)
        };
        let resume = |dir: &Path| {
            exit_code_of(&[
                "resume",
                dir.to_str().unwrap(),
                "--quiet",
                "--backend",
                backend,
                "--set",
                "run.max_steps=100000000",
            ])
        };
        let case = format!("{precision} on {backend}");
        let (code, err) = run("whole", &[]);
        assert_eq!(code, Some(0), "{case}: {err}");
        let whole = out.join("whole");
        for (name, stop_at, status) in [("late", "60", "max-steps"), ("early", "17", "max-steps")] {
            let (code, err) = run(name, &["--set", &format!("run.max_steps={stop_at}")]);
            assert_eq!(code, Some(0), "{case}, {name}: {err}");
            let parts = out.join(name);
            let summary = json_at(&parts.join("summary.json"));
            assert_eq!(summary["status"], status, "{case}, {name}: {summary}");
            if name == "early" {
                assert!(summary.get("particles").is_none() && !parts.join("particles").exists(), "{case}");
            } else {
                assert_eq!(summary["particles"]["t_final"], 0.2, "{case}");
            }
            let (code, err) = resume(&parts);
            assert_eq!(code, Some(0), "{case}, {name}: {err}");
            let (a, b) = (summary_but_timings(&whole), summary_but_timings(&parts));
            assert_eq!(a, b, "{case}, {name}: summary");
            for output in a["particles"]["outputs"].as_array().unwrap() {
                for key in ["positions", "density"] {
                    let file = output[key].as_str().unwrap();
                    assert!(
                        std::fs::read(whole.join(file)).unwrap() == std::fs::read(parts.join(file)).unwrap(),
                        "{case}, {name}: {file}"
                    );
                }
            }
        }
    }
}
