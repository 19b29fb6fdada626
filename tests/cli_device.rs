//! The `fpgen` binary end to end: backends and devices: `info`, `--backend`, adapters, `batch`, `verify`.

mod common;
use common::cli::*;

#[test]
fn info_lists_the_cpu_backend() {
    let o = fpgen().arg("info").output().unwrap();
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("cpu"));
    // adapters are numbered as FPGEN_ADAPTER_INDEX counts them
    if text.contains("GPU adapter") && !text.contains("none found") {
        assert!(text.contains("GPU adapter 0: "), "{text}");
    }
}

/// FPGEN_ADAPTER_INDEX picks an adapter by its number in `fpgen info`; one past the last is
/// an error that names the variable and the adapters (exit 4).
#[test]
fn adapter_index_chooses_the_adapter_or_names_the_bad_index() {
    if fpgen::gpu::context::context_for_tests(4 * 21 * 21, 2).is_none() {
        return;
    }
    let count = fpgen::gpu::context::list_adapters().len();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let run = |index: usize| {
        fpgen()
            .args(["run", cfg.to_str().unwrap(), "--backend", "gpu", "--quiet", "--force"])
            .args(["--out", dir.path().join("out").to_str().unwrap()])
            .args(["--set", "run.precision=\"f32\""])
            .env("FPGEN_ADAPTER_INDEX", index.to_string())
            .output()
            .unwrap()
    };
    assert!(run(0).status.success());
    let o = run(count);
    assert_eq!(o.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&o.stderr).contains("FPGEN_ADAPTER_INDEX"));
}

/// `--backend auto` never silently takes a software adapter (lavapipe): it computes on the
/// CPU unless WGPU_ADAPTER_NAME names that adapter. With a hardware adapter it takes it.
#[test]
fn auto_skips_software_adapters_unless_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    let adapters = fpgen::gpu::context::list_adapters();
    let hardware = adapters.iter().any(|a| a.device_type != "Cpu");
    let run = |env: Option<&str>, name: &str| {
        let mut cmd = fpgen();
        cmd.args([
            "run",
            cfg.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--backend",
            "auto",
        ])
        .args(["--set", "run.precision=\"f32\"", "--set", &format!("name=\"{name}\"")])
        .env_remove("WGPU_ADAPTER_NAME");
        if let Some(adapter) = env {
            cmd.env("WGPU_ADAPTER_NAME", adapter);
        }
        let status = cmd.status().unwrap();
        assert!(status.success(), "auto with WGPU_ADAPTER_NAME = {env:?}");
        summary_backend(&out.join(name))
    };
    assert_eq!(run(None, "plain"), if hardware { "gpu" } else { "cpu" });
    if let Some(software) = adapters.iter().find(|a| a.device_type == "Cpu") {
        assert_eq!(run(Some(&software.name), "named"), "gpu", "the named software adapter {}", software.name);
    }
    // A name that matches no adapter: auto falls back to the CPU, it does not panic.
    assert_eq!(run(Some("no-such-adapter-anywhere"), "unmatched"), "cpu");
}

/// `--backend gpu` with a WGPU_ADAPTER_NAME that matches nothing is an error naming the
/// variable (exit 4), not a panic (exit 101).
#[test]
fn gpu_with_an_unmatched_adapter_name_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    let output = fpgen()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--backend", "gpu"])
        .env("WGPU_ADAPTER_NAME", "no-such-adapter-anywhere")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4), "no usable GPU");
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("WGPU_ADAPTER_NAME") && err.contains("no-such-adapter-anywhere"), "{err}");
    assert!(!out.join("tiny").exists(), "a run that cannot start leaves no directory");
}

/// `batch` runs configs in one process on one device: one run directory each, and
/// batch.csv with a row per run; a failing run is recorded and the others still run.
#[test]
fn batch_runs_configs_on_one_device() {
    if fpgen::gpu::context::context_for_tests(4 * 21 * 21, 2).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let p = dir.path().join(format!("{name}.toml"));
        std::fs::write(&p, text).unwrap();
        p
    };
    let a = write("a", TINY.replace("name = \"tiny\"", "name = \"a\""));
    let b = write(
        "b",
        TINY.replace("name = \"tiny\"", "name = \"b\"\n[scheme]\nkind = \"gradient-flow\"")
            .replace("dim = 2", "dim = 1")
            .replace("[[-1.0, 0.0], [1.0, 0.0]]", "[-1.0, 1.0]"),
    );
    // fails at start: the fixed Δt exceeds the positivity bound
    let c = write("c", TINY.replace("name = \"tiny\"", "name = \"c\"\n[scheme]\ndt = 1.0"));
    let out = dir.path().join("out");
    let o = fpgen()
        .args(["batch", a.to_str().unwrap(), b.to_str().unwrap(), c.to_str().unwrap()])
        .args([
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--backend",
            "gpu",
            "--set",
            "run.precision=\"f32\"",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(2),
        "one run failed (bad input), so the batch exits with its code: {stderr}"
    );
    assert!(stderr.contains("1 run(s) failed") && stderr.contains("c.toml"), "{stderr}");
    let csv = std::fs::read_to_string(out.join("batch.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("name,config,run_dir,status,message,backend"));
    assert!(lines[1].starts_with("a,") && lines[1].contains(",completed,") && lines[1].contains(",gpu,"));
    assert!(lines[2].starts_with("b,") && lines[2].contains(",completed,"));
    assert!(lines[3].starts_with("c,") && lines[3].contains(",error,") && lines[3].contains("scheme.dt"));
    let summary = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.join(name).join("summary.json")).unwrap()).unwrap()
    };
    assert_eq!(summary("a")["frames_drawn_on"], "device");
    assert_eq!(summary("b")["frames_drawn_on"], "host"); // 1D: a line plot
    assert_eq!(summary("b")["scheme"], "GradientFlow");
}

/// Two configs with the same name would share a run directory: refused before any run.
#[test]
fn batch_refuses_repeated_names() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_config(dir.path(), TINY);
    let b = dir.path().join("copy.toml");
    std::fs::copy(&a, &b).unwrap();
    let out = dir.path().join("out");
    let o = fpgen()
        .args(["batch", a.to_str().unwrap(), b.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("name = \"tiny\""), "{err}");
    assert!(!out.join("tiny").exists());
}

/// `verify` passes on a tiny config and fails (non-zero exit) when the tolerances are
/// squeezed below round-off.
#[test]
fn verify_compares_backends_and_can_fail() {
    if fpgen::gpu::context::context_for_tests(4 * 21 * 21, 2).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let o = fpgen().args(["verify", cfg.to_str().unwrap(), "--json"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["pass"], true);
    let first = &v["comparisons"][0];
    assert_eq!(first["pair"], "gpu-f32 vs cpu-f32");
    assert!(first["rel_l1"].as_f64().unwrap() <= 1e-5);
    let o = fpgen().args(["verify", cfg.to_str().unwrap(), "--tol-scale", "1e-9"]).output().unwrap();
    assert_eq!(o.status.code(), Some(6), "a failed check");
    assert!(String::from_utf8_lossy(&o.stdout).contains("FAIL"));
}
