//! Every command's dataset opens in xarray with the right coordinates and values:
//! tests/python/check_datasets.py checks run directories made here against their configs
//! and .npy/.csv outputs. Needs a Python with xarray, zarr and matplotlib: `FPGEN_PYTHON`
//! names it (default `python3`); without one the test skips loudly, unless
//! `FPGEN_REQUIRE_PYTHON` is set (CI), when it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

fn python() -> Option<String> {
    let python = std::env::var("FPGEN_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import xarray, zarr, matplotlib"])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    let why = format!("{python} cannot import xarray, zarr and matplotlib (set FPGEN_PYTHON)");
    if std::env::var_os("FPGEN_REQUIRE_PYTHON").is_some() {
        panic!("FPGEN_REQUIRE_PYTHON is set but {why}");
    }
    eprintln!("\n*** SKIPPED: the dataset checks need Python: {why} ***\n");
    None
}

fn fpgen(args: &[&str], out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_fpgen"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .args(["--out", out.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "fpgen {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn datasets_open_in_xarray_with_their_coordinates() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    // .npy snapshots too, to hold the dataset against
    let small =
        ["--set", "run.t_final=0.2", "--set", "run.output_times=[0.05, 0.1]", "--set", "output.npy=true"];
    let mut runs: Vec<PathBuf> = Vec::new();
    // 1D, 2D, f32, and a run stopped at a step and resumed (its dataset is cut back and
    // goes on)
    for (config, name, cells, extra) in [
        ("subcritical_1d", "one_d", "101", "run.precision=\"f64\""),
        ("subcritical_2d", "two_d", "41", "run.precision=\"f64\""),
        ("subcritical_2d", "single", "41", "run.precision=\"f32\""),
        ("subcritical_2d", "resumed", "41", "run.max_steps=7"),
    ] {
        let (config, cells, name_key) =
            (format!("configs/{config}.toml"), format!("grid.cells={cells}"), format!("name=\"{name}\""));
        let mut args = vec!["run", &config, "--set", &cells, "--set", &name_key, "--set", extra];
        args.extend(small);
        fpgen(&args, out);
        if name != "resumed" {
            runs.push(out.join(name));
        }
    }
    let resumed = out.join("resumed");
    let o = Command::new(env!("CARGO_BIN_EXE_fpgen"))
        .args(["resume", resumed.to_str().unwrap(), "--quiet", "--set", "run.max_steps=1000000"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    runs.push(resumed);
    // `output.npy` wrote the .npy snapshots the dataset is held against
    assert!(out.join("two_d/snapshots").read_dir().is_ok_and(|d| d.count() == 4), "output.npy = true");
    // particles beside the grid, and particles alone
    for (name, only) in [("particles", "false"), ("particles_only", "true")] {
        let n = format!("name=\"{name}\"");
        let only = format!("particles.only={only}");
        let set = ["--set", "grid.cells=41", "--set", "particles.count=500", "--set", &n, "--set", &only];
        let mut args = vec!["run", "configs/particles_2d.toml"];
        args.extend(set);
        args.extend(small);
        fpgen(&args, out);
        runs.push(out.join(name));
    }
    // generate (the forward and reverse paths) and filter (the iterates)
    let gen =
        ["configs/generate_bimodal_1d_sub.toml", "--set", "grid.cells=101", "--set", "reverse.particles=300"];
    let times =
        ["--set", "run.t_final=0.2", "--set", "run.output_times=[0.05, 0.1]", "--set", "output.npy=true"];
    let mut args = vec!["generate"];
    args.extend(gen);
    args.extend(times);
    fpgen(&args, out);
    runs.push(out.join("generate_bimodal_1d_sub"));
    let mut args = vec!["filter", "--iterations", "2", "--set", "name=\"filtered\""];
    args.extend(gen);
    args.extend(times);
    fpgen(&args, out);
    runs.push(out.join("filtered"));
    // sample (2D with trajectories, 1D with profiles, two stopping times) and check-theory
    fpgen(
        &[
            "sample",
            "configs/score_two_diracs_ode.toml",
            "--set",
            "sampler.samples=400",
            "--set",
            "sampler.t_min=[1e-2, 1e-3]",
            "--set",
            "output.npy=true",
        ],
        out,
    );
    runs.push(out.join("score_two_diracs_ode"));
    fpgen(
        &[
            "sample",
            "configs/score_three_diracs_1d.toml",
            "--set",
            "sampler.samples=300",
            "--set",
            "name=\"one_d_sample\"",
            "--set",
            "output.npy=true",
        ],
        out,
    );
    runs.push(out.join("one_d_sample"));
    fpgen(&["check-theory", "configs/score_three_diracs_1d.toml", "--set", "name=\"theory\""], out);
    runs.push(out.join("theory"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_datasets.py");
    let o = Command::new(&python).arg(&script).args(&runs).output().unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    eprintln!("{report}");
    assert!(o.status.success(), "{report}");
}
