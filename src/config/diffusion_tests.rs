//! Tests of the diffusion config: parsing, round trips, .npy clouds, key-naming errors.

use super::*;

const BASE: &str = r#"
[data]
kind = "diracs"
points = [[-5.0], [0.0], [5.0]]
weights = [0.7, 0.3, 0.1]
[sampler]
epsilon = 1.0
t_final = 10.0
t_min = [0.1, 0.01]
[grid]
cells = 401
half_width = 10.0
"#;

fn err_of(overrides: &[&str]) -> String {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    DiffusionConfig::from_toml_str(BASE, "t.toml", &o)
        .and_then(|c| c.cloud().map(|_| ()))
        .unwrap_err()
        .to_string()
}

#[test]
fn base_parses_and_round_trips() {
    let c = DiffusionConfig::from_toml_str(BASE, "t.toml", &[]).unwrap();
    assert_eq!(c.t_mins(), vec![0.1, 0.01]);
    let cloud = c.cloud().unwrap();
    assert_eq!((cloud.dim, cloud.len()), (1, 3));
    assert!((cloud.log_weights[0].exp() - 0.7 / 1.1).abs() < 1e-15);
    let again = DiffusionConfig::from_toml_str(&c.to_toml_string(), "again", &[]).unwrap();
    assert_eq!(c, again);
}

/// kind = "npy": an (n, d) float32 array, weights optional, path relative to the config.
#[test]
fn npy_clouds_load() {
    let dir = tempfile::tempdir().unwrap();
    let points = ndarray::arr2(&[[0.0f32, 1.0], [2.0, -1.0], [0.5, 0.5]]);
    ndarray_npy::write_npy(dir.path().join("pts.npy"), &points).unwrap();
    let text = BASE
        .replace("kind = \"diracs\"\npoints = [[-5.0], [0.0], [5.0]]", "kind = \"npy\"\npath = \"pts.npy\"");
    let path = dir.path().join("c.toml");
    std::fs::write(&path, text).unwrap();
    let c = DiffusionConfig::load(&path, &[]).unwrap();
    assert_eq!(c.name, "c");
    let cloud = c.cloud().unwrap();
    assert_eq!((cloud.dim, cloud.len(), cloud.point(1)), (2, 3, &[2.0, -1.0][..]));
    let bad = DiffusionConfig::load(&path, &["data.weights=[1.0]".into()]).unwrap().cloud().unwrap_err();
    assert!(bad.to_string().contains("1 weights for 3 points"), "{bad}");
}

#[test]
fn bad_values_name_the_key() {
    for (set, key) in [
        ("sampler.epsilon=-1", "sampler.epsilon"),
        ("sampler.t_min=20.0", "sampler.t_min"),
        ("sampler.steps=0", "sampler.steps"),
        ("process.diffusion=0", "process.diffusion"),
        ("data.weights=[1.0, 0.0, 1.0]", "data.weights"),
        ("data.path=\"x.npy\"", "data.path"),
        ("data.kind=\"two-moons\"", "data.points"),
        ("grid.cells=1", "grid.cells"),
    ] {
        let e = err_of(&[set]);
        assert!(e.contains(key), "{set}: {e}");
    }
    assert!(err_of(&["sampler.stepr=\"euler\""]).contains("stepr"));
}
