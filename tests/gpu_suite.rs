//! `scripts/gpu-suite.sh --rehearse`: the device script end to end on the adapter here
//! (lavapipe in CI), with this build's binary: every step exits 0, every output is written,
//! and every verify comparison passes (3 configs × 3 pairs).

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
    for name in ["suite.log", "info.txt", "verify.txt", "bench.txt", "bench_particles.txt", "bench_score.txt"]
    {
        let size = std::fs::metadata(dir.path().join(name)).map(|m| m.len()).unwrap_or(0);
        assert!(size > 0, "{name} is missing or empty\n{log}");
    }
    let verify = std::fs::read_to_string(dir.path().join("verify.txt")).unwrap();
    assert_eq!(verify.matches(" PASS ").count(), 9, "{verify}");
    assert!(!verify.contains("FAIL"), "{verify}");
}
