//! Property tests of the input handling, on generated cases (a fixed seed, so a failure
//! reproduces; FPGEN_FUZZ_SEED picks another): every key of every shipped config mutated
//! (wrong types, signs, zero, NaN, ±inf, huge, empty and mixed arrays, deleted keys,
//! unknown keys, broken TOML) must give an error that names the key or the syntax, never
//! a panic; and malformed command lines exit with the bad-input code, never a panic,
//! creating nothing outside `--out`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::Command;

use fpgen::config::{Config, DiffusionConfig};
use fpgen::Error;

/// xorshift64*: enough to pick cases, no dependency.
struct Cases(u64);

impl Cases {
    fn new() -> Self {
        let seed = std::env::var("FPGEN_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_f9e7);
        Self(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Values no key should take without a clear error (or be fine with).
fn bad_value(cases: &mut Cases) -> toml::Value {
    use toml::Value;
    match cases.below(16) {
        0 => Value::String("x".into()),
        1 => Value::Integer(-1),
        2 => Value::Integer(0),
        3 => Value::Float(f64::NAN),
        4 => Value::Float(f64::INFINITY),
        5 => Value::Float(f64::NEG_INFINITY),
        6 => Value::Float(1e308),
        7 => Value::Float(-1e-308),
        8 => Value::Integer(i64::MAX),
        9 => Value::Array(vec![]),
        10 => Value::Array(vec![Value::Integer(1), Value::String("a".into())]),
        11 => Value::Boolean(true),
        12 => Value::Table(toml::Table::new()),
        13 => Value::Float(0.5),
        14 => Value::Integer(4_294_967_296),
        _ => Value::Array(vec![Value::Array(vec![Value::Float(1.0)]); 3]),
    }
}

/// Dotted paths of every leaf of a table.
fn leaves(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (key, value) in table {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            toml::Value::Table(t) => leaves(t, &path, out),
            _ => out.push(path),
        }
    }
}

fn set(table: &mut toml::Table, path: &str, value: Option<toml::Value>) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap_or_default();
    let mut t = table;
    for p in parts {
        t = match t.entry(p.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new())) {
            toml::Value::Table(inner) => inner,
            _ => return,
        };
    }
    match value {
        Some(v) => {
            t.insert(last.to_string(), v);
        }
        None => {
            t.remove(last);
        }
    }
}

/// One mutated text of `original`.
fn mutate(original: &str, cases: &mut Cases) -> String {
    let mut table: toml::Table = original.parse().expect("shipped configs parse");
    let mut keys = Vec::new();
    leaves(&table, "", &mut keys);
    match cases.below(10) {
        0 => {
            // broken TOML: cut, or a stray character
            let mut cut = cases.below(original.len().max(1));
            while !original.is_char_boundary(cut) {
                cut -= 1;
            }
            let mut text = original[..cut].to_string();
            let junk: [&str; 7] = ["", "=", "[", "\"", "]]", "= [1,", "x = = 1"];
            text.push_str(junk[cases.below(junk.len())]);
            return text;
        }
        1 => {
            let key = cases.pick(&keys).clone();
            set(&mut table, &key, None);
        }
        2 => {
            let sections: [&str; 8] = ["", "model", "grid", "run", "sampler", "data", "output", "check"];
            let section = sections[cases.below(sections.len())];
            let key = if section.is_empty() { "bogus".to_string() } else { format!("{section}.bogus") };
            set(&mut table, &key, Some(toml::Value::Integer(1)));
        }
        _ => {
            let key = cases.pick(&keys).clone();
            let value = bad_value(cases);
            set(&mut table, &key, Some(value));
        }
    }
    toml::to_string(&table).unwrap_or_default()
}

/// The error is one a user can act on: it names a key, the syntax, or the file.
fn names_its_cause(e: &Error) -> bool {
    match e {
        Error::Config(c) => !c.key.is_empty() && !c.message.is_empty(),
        Error::ConfigSyntax { message, .. } => !message.is_empty(),
        Error::Data { .. } | Error::Io { .. } => true,
        _ => false,
    }
}

#[test]
fn mutated_configs_give_errors_naming_the_key_and_never_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut forward = Vec::new();
    let mut diffusion = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    for path in names.iter().filter(|p| p.extension().is_some_and(|e| e == "toml")) {
        let text = std::fs::read_to_string(path).unwrap();
        if text.contains("\n[data]") {
            diffusion.push(text);
        } else {
            forward.push(text);
        }
    }
    assert!(forward.len() >= 6 && diffusion.len() >= 3);
    let mut cases = Cases::new();
    let (mut accepted, mut refused) = (0, 0);
    for case in 0..2400 {
        let is_forward = case % 2 == 0;
        let original = if is_forward { cases.pick(&forward) } else { cases.pick(&diffusion) }.clone();
        let text = mutate(&original, &mut cases);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            if is_forward {
                Config::from_toml_str(&text, "fuzz.toml", &[]).map(|c| {
                    // what the run reads from a valid config must not panic either
                    let _ = c.initial_density().map(|d| c.grid().map(|g| d.on_grid(&g, c.initial.mass)));
                    let _ = c.output_times();
                })
            } else {
                DiffusionConfig::from_toml_str(&text, "fuzz.toml", &[]).map(|c| {
                    let _ = c.cloud();
                    let _ = c.t_mins();
                })
            }
        }));
        match outcome {
            Err(_) => panic!("case {case} panicked on:\n{text}"),
            Ok(Ok(())) => accepted += 1,
            Ok(Err(e)) => {
                assert!(names_its_cause(&e), "case {case}: unhelpful error {e:?} for\n{text}");
                refused += 1;
            }
        }
    }
    eprintln!("{accepted} mutated configs accepted, {refused} refused with a named cause");
    assert!(refused > 1000, "the mutations should mostly be refused ({refused})");
}

#[test]
fn malformed_command_lines_exit_2_without_panics_or_stray_files() {
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("c.toml");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/subcritical_1d.toml"), &config)
        .unwrap();
    let c = config.to_str().unwrap().to_string();
    let lines: Vec<Vec<String>> = [
        vec!["run", &c, "--backend", "quantum"],
        vec!["run", &c, "--set", "no_equals_sign"],
        vec!["run", &c, "--set", "grid.cells=abc"],
        vec!["run", &c, "--set", "name=\"..\""],
        vec!["run", &c, "--set", "name=\"/tmp/elsewhere\""],
        vec!["run", &c, "--max-memory", "lots"],
        vec!["run", "missing.toml"],
        vec!["batch"],
        vec!["generate", &c, "--set", "reverse.eta=-1"],
        vec!["filter", &c, "--iterations", "0"],
        vec!["filter", &c, "--iterations", "-3"],
        vec!["critical-mass", "--dim", "3", "--gamma", "2"],
        vec!["critical-mass", "--dim", "2", "--gamma", "nan"],
        vec!["critical-mass", "--dim", "2", "--gamma", "2", "--mass", "-1"],
        vec!["verify", &c, "--tol-scale", "0"],
        vec!["bench", "--steps", "0"],
        vec!["bench", "--sizes", "1"],
        vec!["bench-particles", "--steps", "0"],
        vec!["bench-particles", "--counts", "0"],
        vec!["bench-score", "--samples", "0"],
        vec!["render", "no/such/run"],
        vec!["sample", &c],
        vec!["frobnicate"],
    ]
    .iter()
    .map(|l| l.iter().map(|s| s.to_string()).collect())
    .collect();
    let out = work.path().join("out");
    for args in &lines {
        let output = Command::new(env!("CARGO_BIN_EXE_fpgen"))
            .args(args)
            .args(["--out", out.to_str().unwrap()])
            .current_dir(work.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    }
    let mut made: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    made.sort();
    assert!(made == ["c.toml"] || made == ["c.toml", "out"], "files outside --out: {made:?}");
    if out.exists() {
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "no run directory was left");
    }
}

/// The audit: hostile runs (not just bad input) end with the exit code of their class,
/// within a time limit, and every outcome is counted: panics (101), aborts (signals),
/// hangs (over the limit), wrong codes. Prints the table; fails on any but the expected.
#[test]
fn audit_hostile_runs_end_with_their_class() {
    let work = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg = |name: &str| root.join("configs").join(name).to_str().unwrap().to_string();
    let tiny = |extra: &[&str]| {
        let mut a = vec!["run".to_string(), cfg("subcritical_1d.toml"), "--quiet".into(), "--force".into()];
        a.extend([
            "--set".to_string(),
            "grid.cells=41".to_string(),
            "--set".into(),
            "run.t_final=0.05".into(),
        ]);
        for e in extra {
            a.extend(["--set".to_string(), e.to_string()]);
        }
        a
    };
    // (what, arguments, expected exit code)
    let cases: Vec<(&str, Vec<String>, i32)> = vec![
        ("completes", tiny(&[]), 0),
        ("beta = 1e30 stalls", tiny(&["model.beta=1e30", "run.stall_steps=300", "run.t_final=1.0"]), 3),
        ("mass 1e150 overflows to NaN", tiny(&["initial.mass=1e150", "stop.max_density=1e300"]), 3),
        ("f32 mass underflows", tiny(&["run.precision=\"f32\"", "initial.mass=1e-44"]), 3),
        ("initial above max_density", tiny(&["stop.max_density=1e-6"]), 2),
        ("2^32 cells", tiny(&["grid.cells=4294967296"]), 2),
        ("1e-300 output spacing", tiny(&["run.output_every=1e-300"]), 2),
        ("200000-pixel frames", tiny(&["output.min_pixels=200000"]), 2),
        ("100000 threads", tiny(&["run.threads=100000"]), 2),
        ("4e9 particles", tiny(&["particles.count=4000000000", "particles.dt=0.01"]), 2),
        (
            "lambda T = 1000",
            vec![
                "sample".into(),
                cfg("score_two_diracs_ode.toml"),
                "--quiet".into(),
                "--force".into(),
                "--set".into(),
                "process.lambda=1.0".into(),
                "--set".into(),
                "sampler.t_final=1000.0".into(),
            ],
            2,
        ),
        (
            "gamma = 1e16",
            vec!["critical-mass".into(), "--dim".into(), "2".into(), "--gamma".into(), "1e16".into()],
            2,
        ),
    ];
    let out = work.path().join("out");
    let mut report = Vec::new();
    for (what, args, expected) in &cases {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fpgen"))
            .args(args)
            .args(["--out", out.to_str().unwrap(), "--max-memory", "2G"])
            .current_dir(work.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let clock = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if clock.elapsed().as_secs() > 60 {
                let _ = child.kill();
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        let outcome = match status.and_then(|s| s.code()) {
            None if status.is_none() => "HANG".to_string(),
            None => "ABORT".to_string(),
            Some(101) => "PANIC".to_string(),
            Some(code) if code == *expected => format!("ok ({code})"),
            Some(code) => format!("WRONG CODE {code}, expected {expected}"),
        };
        report.push(format!("{what:<32} {outcome}"));
    }
    eprintln!("audit:\n  {}", report.join("\n  "));
    let bad: Vec<&String> = report.iter().filter(|r| !r.ends_with(')') || !r.contains("ok (")).collect();
    assert!(bad.is_empty(), "audit failures: {bad:?}");
    let mut made: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    made.sort();
    assert!(made.is_empty() || made == ["out"], "files outside --out: {made:?}");
}
