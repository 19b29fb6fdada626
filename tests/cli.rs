//! The `fpgen` binary end to end on tiny configs.

use std::path::Path;
use std::process::Command;

fn fpgen() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fpgen"))
}

const TINY: &str = r#"
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

fn write_config(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("tiny.toml");
    std::fs::write(&path, text).unwrap();
    path
}

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

#[test]
fn critical_mass_prints_json() {
    let o = fpgen()
        .args(["critical-mass", "--dim", "2", "--gamma", "2", "--box-half-width", "6"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mc = v["critical_mass"].as_f64().unwrap();
    assert!((mc - std::f64::consts::PI.powi(2)).abs() < 1e-9);
    let mc_box = v["critical_mass_box"].as_f64().unwrap();
    assert!(mc_box < mc && mc_box > 0.99 * mc);
    assert_eq!(v["condenses_for_mass_above"].as_f64().unwrap(), mc_box);

    let o = fpgen().args(["critical-mass", "--dim", "1", "--gamma", "2"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["finite"], false);
    assert!(v["critical_mass"].is_null());
    assert!(v["note"].as_str().unwrap().contains("infinite"));
}

#[test]
fn critical_mass_writes_the_grid_profile() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f_theta.npy");
    let o = fpgen()
        .args(["critical-mass", "--dim", "2", "--gamma", "2", "--box-half-width", "6", "--mass", "4.0"])
        .args(["--cells", "41", "--profile", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["grid_theta"].as_f64().unwrap() > 0.0);
    let f: ndarray::Array2<f64> = ndarray_npy::read_npy(&path).unwrap();
    let h = 12.0 / 41.0;
    assert!((f.sum() * h * h - 4.0).abs() < 1e-9, "discrete mass {}", f.sum() * h * h);
    // without --cells the profile cannot be made
    let o = fpgen()
        .args(["critical-mass", "--dim", "2", "--gamma", "2", "--box-half-width", "6", "--mass", "4.0"])
        .args(["--profile", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!o.status.success());
}

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

fn gray_peak(path: &Path) -> u8 {
    image::open(path).unwrap().to_luma8().pixels().map(|p| p.0[0]).max().unwrap()
}

/// `output.movie = "gif"` writes movie.gif with one frame per PNG frame; `fpgen movie`
/// makes one from a finished run; an MP4 without ffmpeg is refused naming the key.
#[test]
fn movies_hold_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    let (o, c) = (out.to_str().unwrap(), cfg.to_str().unwrap());
    let (code, err) = exit_code_of(&["run", c, "--out", o, "--quiet", "--set", "output.movie=\"gif\""]);
    assert_eq!(code, Some(0), "{err}");
    let run = out.join("tiny");
    let count = |path: &Path| {
        let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
        let decoder = image::codecs::gif::GifDecoder::new(file).unwrap();
        image::AnimationDecoder::into_frames(decoder).collect_frames().unwrap().len()
    };
    let frames = json_at(&run.join("summary.json"))["frames"].as_array().unwrap().len();
    assert_eq!((count(&run.join("movie.gif")), frames), (3, 3));
    std::fs::remove_file(run.join("movie.gif")).unwrap();
    let (code, err) = exit_code_of(&["movie", run.to_str().unwrap(), "--fps", "10"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(count(&run.join("movie.gif")), 3);
    // without ffmpeg on PATH an MP4 is refused, naming the key
    let mp4 = ["run", c, "--out", o, "--quiet", "--force", "--set", "output.movie=\"mp4\""];
    let refused = fpgen().args(mp4).env("PATH", "").output().unwrap();
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(err.contains("output.movie") && err.contains("ffmpeg"), "{err}");
    // with it (CI installs it), one video frame per PNG
    if !fpgen::resources::ffmpeg_available() {
        eprintln!("\n*** SKIPPED: the MP4 check needs ffmpeg on PATH ***\n");
        return;
    }
    let (code, err) = exit_code_of(&mp4);
    assert_eq!(code, Some(0), "{err}");
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
        .arg(run.join("movie.mp4"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "3");
}

/// Without .npy snapshots (`output.snapshots = false`) the run's own readers take the
/// densities from run.zarr: the kymograph (the same image), the particles' L1 distances
/// to the grid (the same numbers) and `fpgen render` (one frame per snapshot).
#[test]
fn without_npy_snapshots_the_dataset_is_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // the same run names in two output folders: titles, and so images, can be compared
    let (with, without) = (dir.path().join("with"), dir.path().join("without"));
    let run = |config: &str, out: &Path, extra: &[&str]| {
        let config = root.join(config);
        let mut args = vec!["run", config.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"];
        args.extend(extra);
        let (code, err) = exit_code_of(&args);
        assert_eq!(code, Some(0), "{err}");
    };
    let short = ["--set", "run.t_final=0.5", "--set", "run.output_times=[0.1, 0.2]"];
    let no_npy = ["--set", "output.snapshots=false"];
    run("configs/subcritical_1d.toml", &with, &short);
    run("configs/subcritical_1d.toml", &without, &[&short[..], &no_npy[..]].concat());
    let one_d = |out: &Path| out.join("subcritical_1d");
    assert!(!one_d(&without).join("snapshots").exists());
    let kymograph = |out: &Path| std::fs::read(one_d(out).join("kymograph.png")).unwrap();
    assert!(kymograph(&with) == kymograph(&without), "the same kymograph from run.zarr");
    let redrawn = dir.path().join("redrawn");
    let (code, err) =
        exit_code_of(&["render", one_d(&without).to_str().unwrap(), "--out-dir", redrawn.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read_dir(&redrawn).unwrap().count(), 4, "t = 0, 0.1, 0.2, 0.5");
    let particles = [
        "--set",
        "particles.count=2000",
        "--set",
        "grid.cells=41",
        "--set",
        "run.t_final=0.3",
        "--set",
        "run.output_times=[0.25]",
    ];
    run("configs/particles_2d.toml", &with, &particles);
    run("configs/particles_2d.toml", &without, &[&particles[..], &no_npy[..]].concat());
    let l1 = |out: &Path| -> Vec<f64> {
        let s = json_at(&out.join("particles_2d/summary.json"));
        s["particles"]["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["l1_to_grid"].as_f64().unwrap())
            .collect()
    };
    assert_eq!(l1(&with).len(), 3);
    assert_eq!(l1(&with), l1(&without));
}

/// A 1D run draws its kymograph (f over x and t) beside the diagnostics plot.
#[test]
fn a_one_dimensional_run_draws_its_kymograph() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/subcritical_1d.toml");
    let out = dir.path().join("out");
    let (code, err) = exit_code_of(&[
        "run",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--set",
        "run.t_final=0.5",
        "--set",
        "run.output_times=[0.1, 0.2]",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let (w, h) = image::image_dimensions(out.join("subcritical_1d/kymograph.png")).unwrap();
    assert!(w > 300 && h > 200, "{w} × {h}");
    assert!(out.join("subcritical_1d/diagnostics.png").is_file());
}

/// `render` redraws every snapshot with one colour range: by default the range of all
/// snapshots, so only the frame holding the overall maximum (t = 0: the density spreads)
/// reaches full brightness; a range above every value draws black frames.
#[test]
fn render_redraws_snapshots_with_one_range() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), TINY);
    let out = dir.path().join("out");
    let o = fpgen()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = out.join("tiny");
    let redrawn = dir.path().join("gray");
    let o = fpgen()
        .args(["render", run.to_str().unwrap(), "--colormap", "gray", "--min-pixels", "42", "--bare"])
        .args(["--out-dir", redrawn.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut frames: Vec<_> = std::fs::read_dir(&redrawn).unwrap().map(|e| e.unwrap().path()).collect();
    frames.sort();
    assert_eq!(frames.len(), 3);
    assert_eq!(image::image_dimensions(&frames[0]).unwrap(), (42, 42));
    let peaks: Vec<u8> = frames.iter().map(|p| gray_peak(p)).collect();
    assert_eq!(peaks[0], 255, "{peaks:?}");
    assert!(peaks[2] < 250, "the last frame is drawn in the run's range, not its own: {peaks:?}");

    let o = fpgen()
        .args(["render", run.to_str().unwrap(), "--colormap", "gray", "--range", "10", "20", "--bare"])
        .args(["--out-dir", redrawn.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(frames.iter().all(|p| gray_peak(p) == 0));
    // without --bare each frame is a figure: the 42 × 42 field inside axes and a colour bar
    let o = fpgen()
        .args(["render", run.to_str().unwrap(), "--min-pixels", "42", "--out-dir", redrawn.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (w, h) = image::image_dimensions(&frames[0]).unwrap();
    assert!(w > 42 + 100 && h > 42 + 50, "{w} × {h}");

    // a bad range names the key
    let o = fpgen().args(["render", run.to_str().unwrap(), "--range", "2", "1"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("color_range"));
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

/// A `[particles]` section runs the particle system after the grid solver: positions and
/// deposited densities at t = 0 and at the output times, and the L1 distance to the grid
/// snapshot at each of them in summary.json; `particles.only` skips the grid solver.
#[test]
fn particles_run_alongside_or_instead_of_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{TINY}\n[output]\nnpy = true\n[particles]\ncount = 2000\ndt = 0.004\nseed = 9\nsmoothing_sweeps = 1\n");
    let cfg = write_config(dir.path(), &text);
    let out = dir.path().join("out");
    let o = fpgen()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = out.join("tiny");
    let summary = json_at(&run.join("summary.json"));
    assert_eq!(summary["status"], "completed");
    let p = &summary["particles"];
    assert_eq!(p["count"], 2000);
    let outputs = p["outputs"].as_array().unwrap();
    let times: Vec<f64> = outputs.iter().map(|o| o["t"].as_f64().unwrap()).collect();
    assert_eq!(times, vec![0.0, 0.02, 0.05]);
    // 0.02 / 0.004 = 5 steps, then 0.03 / 0.004 → 8 steps of 0.00375
    assert_eq!(p["steps"], 13);
    for o in outputs {
        let l1 = o["l1_to_grid"].as_f64().unwrap();
        assert!(l1 > 0.0 && l1 < 2.0, "L1 {l1} (mass 2)");
        let x: ndarray::Array2<f64> =
            ndarray_npy::read_npy(run.join(o["positions"].as_str().unwrap())).unwrap();
        assert_eq!(x.shape(), &[2000, 2]);
        let f: ndarray::Array2<f64> =
            ndarray_npy::read_npy(run.join(o["density"].as_str().unwrap())).unwrap();
        let h = 8.0 / 21.0;
        assert!((f.sum() * h * h - 2.0).abs() < 1e-12);
    }

    let only = write_config(dir.path(), &format!("{text}only = true\n"));
    let o = fpgen()
        .args(["run", only.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--force"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = json_at(&run.join("summary.json"));
    assert!(summary.get("mass_initial").is_none(), "no grid run");
    assert!(summary["particles"]["outputs"][1]["l1_to_grid"].is_null());
    assert!(!run.join("f_final.npy").exists());
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

/// `run --backend gpu` with a `[particles]` section steps the particles on the device too.
#[test]
fn gpu_particles_run() {
    if fpgen::gpu::context::context_for_tests(4 * 21 * 21, 2).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{TINY}\n[particles]\ncount = 3000\ndt = 0.005\n");
    let cfg = write_config(dir.path(), &text);
    let out = dir.path().join("out");
    let o = fpgen()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--backend", "gpu"])
        .args(["--set", "run.precision=\"f32\""])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = json_at(&out.join("tiny/summary.json"));
    let p = &summary["particles"];
    assert_eq!(p["backend"], "gpu");
    assert_eq!(p["steps"], 10);
    let last = &p["outputs"][2];
    assert!(last["l1_to_grid"].as_f64().unwrap() < 2.0);
    assert!(out.join("tiny/particles/scatter_00000010.png").is_file());
}

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

fn three_diracs_config() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/score_three_diracs_1d.toml")
}

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

/// The `backend` field of a finished run's summary.json.
fn summary_backend(run: &Path) -> String {
    let summary = json_at(&run.join("summary.json"));
    summary["backend"].as_str().unwrap().to_string()
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

fn exit_code_of(args: &[&str]) -> (Option<i32>, String) {
    let o = fpgen().args(args).output().unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
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

/// Send SIGINT to `child` 0.3 s after `file` appears (at most 5 s of waiting for it).
#[cfg(unix)]
fn interrupt_once_written(child: &std::process::Child, file: &Path) {
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

/// summary.json of a run without its name, timings and provenance (those of the particles
/// too): what a resumed run must reproduce.
fn summary_but_timings(run: &Path) -> serde_json::Value {
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
fn json_at(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

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

/// TINY over 51 steps with three output times (steps 4, 17 and 34 land on them): the case
/// of the resume tests.
fn resumable() -> String {
    TINY.replace("cells = 21", "cells = 41")
        .replace("t_final = 0.05", "t_final = 0.3")
        .replace("output_times = [0.02]", "output_times = [0.02, 0.1, 0.2]")
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
