//! The layer rule of ARCHITECTURE.md, checked on the source: every `crate::` path in a
//! module names a module of a lower layer (or, among the features, an earlier feature),
//! so the top-level modules form no cycle; and no file under src/ is over 500 lines.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Top-level modules by layer, bottom first; a module may use the modules of its own
/// row to its left and every row below.
const LAYERS: &[&[&str]] = &[
    &["error", "real", "grid", "rng", "kinds", "resources"],
    &["model"],
    &["config"],
    &["gpu"],
    &["io"],
    &["forward", "particles", "reverse", "diffusion"],
    &["run"],
];

/// Macros exported at the crate root, and the module that defines each.
const MACROS: &[(&str, &str)] = &[("uniform_layout", "gpu"), ("csv_row", "io")];

/// The module a `crate::name` path reaches (a crate-root macro counts as its module).
fn module_of(name: &str) -> String {
    MACROS.iter().find(|(m, _)| *m == name).map_or(name, |(_, module)| module).to_string()
}

/// (layer, position in the layer) of a top-level module.
fn rank(module: &str) -> Option<(usize, usize)> {
    LAYERS
        .iter()
        .enumerate()
        .find_map(|(layer, row)| row.iter().position(|m| *m == module).map(|i| (layer, i)))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module names a source text reaches through `crate::` paths, including
/// the names inside `use crate::{a, b::c}` groups.
fn crate_references(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // the names at depth 0 of the group
            let (mut depth, mut start) = (0usize, 0usize);
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        names.insert(ident(group[start..j].trim()));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.insert(ident(group[start..j].trim()));
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            names.insert(ident(after));
        }
        rest = after;
    }
    names.retain(|n| !n.is_empty());
    names
}

/// Top-level module -> the top-level modules it uses, from the source.
fn module_graph() -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph = std::collections::BTreeMap::<String, BTreeSet<String>>::new();
    for file in &files {
        let top = top_module(&src, file);
        if top == "main" || top == "cli" || top == "lib" {
            continue;
        }
        let refs = crate_references(&std::fs::read_to_string(file).unwrap());
        graph.entry(top.clone()).or_default().extend(refs.iter().map(|r| module_of(r)).filter(|r| *r != top));
    }
    graph
}

fn top_module(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap();
    relative.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string()
}

/// The graph written in ARCHITECTURE.md is the code's.
#[test]
fn architecture_md_graph_matches_the_code() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md")).unwrap();
    let start = doc.find("<!-- module graph").expect("ARCHITECTURE.md has a module graph block");
    let end = doc.find("<!-- end of module graph -->").expect("the block ends");
    let mut written = std::collections::BTreeMap::<String, BTreeSet<String>>::new();
    for line in doc[start..end].lines().skip(1) {
        let Some((from, to)) = line.trim().split_once(" -> ") else { continue };
        let targets =
            if to == "(none)" { BTreeSet::new() } else { to.split(", ").map(str::to_string).collect() };
        written.insert(from.to_string(), targets);
    }
    let code = module_graph();
    for (module, uses) in &code {
        assert_eq!(written.get(module), Some(uses), "ARCHITECTURE.md: the line of `{module}`");
    }
    assert_eq!(written.len(), code.len(), "ARCHITECTURE.md lists modules the code does not have");
}

#[test]
fn modules_import_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if top == "main" || top == "cli" || top == "lib" {
            continue; // the binary uses the library by its name, `fpgen::`
        }
        let from = rank(&top)
            .unwrap_or_else(|| panic!("{}: module `{top}` is in no layer of this test", relative.display()));
        let text = std::fs::read_to_string(file).unwrap();
        for target in crate_references(&text).iter().map(|r| module_of(r)) {
            if target == top {
                continue;
            }
            let to = rank(&target).unwrap_or_else(|| {
                panic!("{}: `crate::{target}` is in no layer of this test", relative.display())
            });
            if to >= from {
                violations.push(format!("{} ({top}) uses crate::{target}", relative.display()));
            }
        }
    }
    assert!(violations.is_empty(), "imports against the layer rule:\n  {}", violations.join("\n  "));
}

#[test]
fn the_rule_catches_an_upward_import() {
    let refs = crate_references("use crate::{grid::Grid, run::{a, b}};\nfn f() { crate::io::write(); }");
    assert_eq!(refs.into_iter().collect::<Vec<_>>(), ["grid", "io", "run"]);
    assert!(rank("run").unwrap() > rank("forward").unwrap());
    assert!(rank("forward").unwrap() < rank("reverse").unwrap());
}

#[test]
fn no_source_file_is_over_500_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).unwrap().lines().count();
            (lines > 500).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "files over 500 lines: {long:?}");
}
