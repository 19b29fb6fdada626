//! `fpgen sweep` on one machine and `fpgen collect`: points from a product and a zipped
//! group, named from their values; a rerun skips what finished and reruns what failed; a
//! bad value is named with its point before anything runs; the collected table and
//! dataset are shaped by the axes.

mod common;

use std::path::Path;
use std::process::Command;

use fpgen::io::zarr::ZarrStore;

fn fpgen() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fpgen"))
}

const SPEC: &str = r#"
name = "s"
base = "base.toml"
set = { "run.output_every" = 0.05 }
[axes]
"initial.mass_ratio" = [0.5, 1.5]
[zip.resolution]
"grid.cells" = [51, 101, 151]
"run.t_final" = [0.1, 0.1, 0.05]
"#;

fn setup(dir: &Path, spec: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("base.toml"), common::SWEEP_BASE_1D).unwrap();
    let path = dir.join("spec.toml");
    std::fs::write(&path, spec).unwrap();
    path
}

fn sweep(spec: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    fpgen()
        .args(["sweep", spec.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_local_sweep_runs_every_point_once_and_collects_them() {
    let dir = tempfile::tempdir().unwrap();
    let spec = setup(dir.path(), SPEC);
    let out = dir.path().join("out");
    let o = sweep(&spec, &out, &["--jobs", "2"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("6 points"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let s = out.join("s");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.join("sweep.json")).unwrap()).unwrap();
    let names: Vec<&str> =
        manifest["points"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names[0], "0_mass_ratio-0.5_cells-51_t_final-0.1");
    assert_eq!(names[5], "5_mass_ratio-1.5_cells-151_t_final-0.05");
    // the point's config is the base with the spec's and the point's values
    let config: toml::Table =
        std::fs::read_to_string(s.join(names[5]).join("config.toml")).unwrap().parse().unwrap();
    assert_eq!(config["grid"]["cells"].as_integer(), Some(151));
    assert_eq!(config["run"]["t_final"].as_float(), Some(0.05));
    assert_eq!(config["initial"]["mass_ratio"].as_float(), Some(1.5));
    assert_eq!(config["name"].as_str(), Some(names[5]));

    // a rerun skips every point; a point whose summary says failed runs again
    let again = sweep(&spec, &out, &["--jobs", "2"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 run, 6 already finished"));
    let summary = s.join(names[2]).join("summary.json");
    let text = std::fs::read_to_string(&summary)
        .unwrap()
        .replace("\"status\": \"completed\"", "\"status\": \"failed\"");
    std::fs::write(&summary, text).unwrap();
    let again = sweep(&spec, &out, &[]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("1 run, 5 already finished"));
    assert!(std::fs::read_to_string(&summary).unwrap().contains("\"status\": \"completed\""));

    let o = fpgen().args(["collect", s.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(s.join("collect.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.starts_with("index,point,initial.mass_ratio,grid.cells,run.t_final,status,steps,t_final"),
        "{header}"
    );
    assert_eq!(csv.lines().count(), 7);
    let store = ZarrStore::open(&s.join("collect.zarr")).unwrap();
    let arrays = store.arrays();
    let steps = arrays.iter().find(|a| a.name == "steps").unwrap();
    assert_eq!(steps.dims, ["initial.mass_ratio", "resolution"]);
    assert_eq!(steps.shape, [2, 3]);
    assert_eq!(store.read_all("grid.cells").unwrap(), [51.0, 101.0, 151.0]);
    assert_eq!(store.read_all("initial.mass_ratio").unwrap(), [0.5, 1.5]);
    // the table's t_final column and the dataset's agree point by point
    let t_final: Vec<f64> =
        csv.lines().skip(1).map(|l| l.split(',').nth(7).unwrap().parse().unwrap()).collect();
    assert_eq!(store.read_all("t_final").unwrap(), t_final);
}

#[test]
fn a_bad_value_is_named_with_its_point_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let spec = setup(dir.path(), &SPEC.replace("[51, 101, 151]", "[51, 1, 151]"));
    let out = dir.path().join("out");
    let o = sweep(&spec, &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("`grid.cells`") && err.contains("point 1_mass_ratio-0.5_cells-1"), "{err}");
    assert!(!out.join("s").exists());
    // a model without a critical mass cannot take a mass ratio
    let spec =
        setup(dir.path(), &SPEC.replace("[zip.resolution]", "[zip.g]\n\"model.gamma\" = [0.5, 0.5, 0.5]"));
    let o = sweep(&spec, &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("`initial.mass_ratio`"));
    // an index out of range is named
    let spec = setup(dir.path(), SPEC);
    let o = sweep(&spec, &out, &["--index", "6"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--index"));
}
