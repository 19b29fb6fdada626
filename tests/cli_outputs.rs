//! The `fpgen` binary end to end: outputs of a finished run: movies, datasets, kymographs, `render`.

mod common;
use common::cli::*;
use std::path::Path;
use std::process::Command;

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
