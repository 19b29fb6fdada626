//! Helpers of the command-line tests (tests/cli_*.rs): the binary, a tiny config, exit
//! codes, signals, JSON.

use std::path::Path;
use std::process::Command;

pub fn fpgen() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fpgen"))
}

pub const TINY: &str = r#"
name = "tiny"
[model]
dim = 2
gamma = 2.0
beta = 1.0
[grid]
half_width = 4.0
cells = 21
[initial]
kind = "gaussian-mixture"
mass = 2.0
centres = [[-1.0, 0.0], [1.0, 0.0]]
std_devs = [0.5, 0.5]
[run]
t_final = 0.05
output_times = [0.02]
diagnostics_every = 5
"#;

pub fn write_config(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("tiny.toml");
    std::fs::write(&path, text).unwrap();
    path
}

pub fn gray_peak(path: &Path) -> u8 {
    image::open(path).unwrap().to_luma8().pixels().map(|p| p.0[0]).max().unwrap()
}

pub fn three_diracs_config() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/score_three_diracs_1d.toml")
}

/// The `backend` field of a finished run's summary.json.
pub fn summary_backend(run: &Path) -> String {
    let summary = json_at(&run.join("summary.json"));
    summary["backend"].as_str().unwrap().to_string()
}

pub fn exit_code_of(args: &[&str]) -> (Option<i32>, String) {
    let o = fpgen().args(args).output().unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Send SIGINT to `child` 0.3 s after `file` appears (at most 5 s of waiting for it).
#[cfg(unix)]
pub fn interrupt_once_written(child: &std::process::Child, file: &Path) {
    for _ in 0..200 {
        if file.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
}

/// summary.json of a run without its name, timings and provenance (those of the particles
/// too): what a resumed run must reproduce.
pub fn summary_but_timings(run: &Path) -> serde_json::Value {
    let mut v = json_at(&run.join("summary.json"));
    let m = v.as_object_mut().unwrap();
    for timing in ["name", "wall_seconds", "stepping_seconds", "cell_updates_per_second", "provenance"] {
        m.remove(timing);
    }
    if let Some(p) = m.get_mut("particles").and_then(|p| p.as_object_mut()) {
        for timing in ["wall_seconds", "particle_steps_per_second"] {
            p.remove(timing);
        }
    }
    v
}

/// A JSON file of a run (summary.json, check.json), parsed.
pub fn json_at(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// TINY over 51 steps with three output times (steps 4, 17 and 34 land on them): the case
/// of the resume tests.
pub fn resumable() -> String {
    TINY.replace("cells = 21", "cells = 41")
        .replace("t_final = 0.05", "t_final = 0.3")
        .replace("output_times = [0.02]", "output_times = [0.02, 0.1, 0.2]")
}
