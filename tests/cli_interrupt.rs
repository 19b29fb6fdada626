//! SIGINT through the command line for the phases that had no interrupt check of their
//! own before they ran on the `Simulation` loop: exit 130 soon after the signal, and no
//! results written for the phase that was cut.

#![cfg(unix)]

use std::path::Path;
use std::time::{Duration, Instant};

/// Wait for `child` at most `limit` after the signal; its exit code.
fn exit_within(child: &mut std::process::Child, limit: Duration) -> Option<i32> {
    let signalled = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if signalled.elapsed() > limit {
            let _ = child.kill();
            panic!("no exit within {limit:?} of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `check-theory` on the lemniscate (about a minute of sampler and backward Fokker–Planck
/// steps here): SIGINT two seconds in ends it with exit 130 within seconds, and no
/// check.json is written.
#[test]
fn sigint_stops_check_theory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/score_lemniscate_check.toml");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fpgen"))
        .args(["check-theory", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .env("XDG_RUNTIME_DIR", dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(exit_within(&mut child, Duration::from_secs(20)), Some(130));
    assert!(!out.join("score_lemniscate_check/check.json").exists());
}

/// `generate` with 10⁶ reverse particles (seconds of forward and reverse PDE, then tens of
/// seconds of particles here): SIGINT four seconds in, during the reverse particles (which
/// had no interrupt check) or, on a slower machine, an earlier phase, ends it with exit 130
/// within seconds and nothing generated.
#[test]
fn sigint_stops_generate_in_its_reverse_particles() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/generate_two_blobs_2d_sub.toml");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fpgen"))
        .args(["generate", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .args(["--set", "reverse.particles=1000000"])
        .env("XDG_RUNTIME_DIR", dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(exit_within(&mut child, Duration::from_secs(20)), Some(130));
    let run = out.join("generate_two_blobs_2d_sub");
    // what a finished generation writes (summary.json, the dataset, generated.png)
    for file in ["summary.json", "run.zarr", "generated.png"] {
        assert!(!run.join(file).exists(), "{file} was written");
    }
}

/// `filter` for 5000 iterations: SIGINT three seconds in (inside some iteration's forward
/// or reverse phase) ends it with exit 130 within seconds; the finished iterates are kept:
/// summary.json says `interrupted` and lists as many iterations as filter.csv has complete
/// rows.
#[test]
fn sigint_stops_filter_keeping_the_finished_iterates() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/filter_noisy_2d.toml");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fpgen"))
        .args(["filter", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .args(["--iterations", "5000"])
        .env("XDG_RUNTIME_DIR", dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(exit_within(&mut child, Duration::from_secs(20)), Some(130));
    let run = out.join("filter_noisy_2d");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["status"], "interrupted", "{summary}");
    let csv = std::fs::read_to_string(run.join("filter.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    let columns = csv.lines().next().unwrap().split(',').count();
    assert!(rows.iter().all(|r| r.split(',').count() == columns), "a row is incomplete");
    let iterations = summary["iterations"].as_array().unwrap().len();
    assert!(iterations > 0 && iterations < 5000, "{iterations} iterations");
    assert_eq!(rows.len(), iterations, "filter.csv rows vs summary iterations");
}
