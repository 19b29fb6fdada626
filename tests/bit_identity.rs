//! Outputs of small runs of the shipped configs, hashed byte for byte against
//! tests/golden/bit_identity.txt: a refactor that changes any number fails here.
//! `FPGEN_BLESS=1 cargo test --test bit_identity` rewrites the file (only when the
//! numerics are meant to change; say why in the commit).

use std::path::Path;
use std::process::Command;

/// FNV-1a, 64 bit: enough to tell two outputs apart, no dependency.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// A CSV with every number written as `{:e}` of its f64, as the recorded files were (the
/// integer columns are written as integers since): the hash follows the values, not
/// their format.
fn numbers_as_recorded(csv: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(csv);
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<String> = line
            .split(',')
            .map(|f| match f.parse::<f64>() {
                Ok(v) if i > 0 => format!("{v:e}"),
                _ => f.to_string(),
            })
            .collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out.into_bytes()
}

struct Case {
    name: &'static str,
    args: &'static [&'static str],
    files: &'static [&'static str],
}

const FORWARD_FILES: &[&str] = &["f_final.npy", "diagnostics.csv"];

const CASES: &[Case] = &[
    Case {
        name: "ou_linear_1d",
        args: &["run", "configs/ou_linear_1d.toml", "--set", "grid.cells=101", "--set", "run.t_final=0.2"],
        files: FORWARD_FILES,
    },
    Case {
        name: "subcritical_1d",
        args: &["run", "configs/subcritical_1d.toml", "--set", "grid.cells=101", "--set", "run.t_final=0.2"],
        files: FORWARD_FILES,
    },
    Case {
        name: "supercritical_1d",
        args: &[
            "run",
            "configs/supercritical_1d.toml",
            "--set",
            "grid.cells=101",
            "--set",
            "run.t_final=0.2",
        ],
        files: FORWARD_FILES,
    },
    Case {
        name: "subcritical_2d",
        args: &["run", "configs/subcritical_2d.toml", "--set", "grid.cells=41", "--set", "run.t_final=0.05"],
        files: FORWARD_FILES,
    },
    Case {
        name: "supercritical_2d",
        args: &[
            "run",
            "configs/supercritical_2d.toml",
            "--set",
            "grid.cells=41",
            "--set",
            "run.t_final=0.05",
        ],
        files: FORWARD_FILES,
    },
    Case {
        name: "heat_2d",
        args: &["run", "configs/heat_2d.toml", "--set", "grid.cells=41", "--set", "run.t_final=0.05"],
        files: FORWARD_FILES,
    },
    Case {
        name: "particles_2d",
        args: &[
            "run",
            "configs/particles_2d.toml",
            "--set",
            "grid.cells=41",
            "--set",
            "run.t_final=0.3",
            "--set",
            "run.output_times=[0.25]",
            "--set",
            "particles.count=2000",
            "--set",
            "output.npy=true",
        ],
        files: &["f_final.npy", "particles/x_00000060.npy", "particles/density_00000060.npy"],
    },
    Case {
        name: "generate_bimodal_1d_sub",
        args: &[
            "generate",
            "configs/generate_bimodal_1d_sub.toml",
            "--set",
            "grid.cells=101",
            "--set",
            "run.t_final=0.2",
            "--set",
            "reverse.particles=500",
            "--set",
            "output.npy=true",
        ],
        files: &["generated.npy", "samples.npy"],
    },
    Case {
        name: "score_two_diracs_ode",
        args: &[
            "sample",
            "configs/score_two_diracs_ode.toml",
            "--set",
            "sampler.samples=500",
            "--set",
            "output.npy=true",
        ],
        files: &["samples_0.npy", "trajectories_0.npy"],
    },
    Case {
        name: "score_three_diracs_1d",
        args: &["check-theory", "configs/score_three_diracs_1d.toml"],
        files: &["check.json"],
    },
];

fn hashes() -> String {
    let out = tempfile::tempdir().expect("tempdir");
    let mut lines = String::new();
    for case in CASES {
        let status = Command::new(env!("CARGO_BIN_EXE_fpgen"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(case.args)
            .args(["--out", out.path().to_str().expect("utf-8 temp path"), "--quiet"])
            .status()
            .expect("fpgen runs");
        assert!(status.success(), "{}: fpgen {:?} failed", case.name, case.args);
        for file in case.files {
            let path = out.path().join(case.name).join(file);
            let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if file.ends_with(".csv") {
                bytes = numbers_as_recorded(&bytes);
            }
            lines.push_str(&format!("{} {} {:016x}\n", case.name, file, fnv1a(&bytes)));
        }
    }
    lines
}

#[test]
fn outputs_are_bit_identical_to_the_recorded_ones() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/bit_identity.txt");
    let now = hashes();
    if std::env::var_os("FPGEN_BLESS").is_some() {
        std::fs::write(&golden, &now).expect("write golden");
        return;
    }
    let recorded = std::fs::read_to_string(&golden).expect("tests/golden/bit_identity.txt");
    let diff: Vec<String> = recorded
        .lines()
        .zip(now.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("recorded {a}\n     now {b}"))
        .collect();
    assert_eq!(recorded.lines().count(), now.lines().count(), "cases differ:\n{now}");
    assert!(diff.is_empty(), "outputs changed:\n{}", diff.join("\n"));
}
