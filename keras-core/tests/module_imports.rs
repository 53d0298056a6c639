//! The modules of `keras-core/src` import one way: each module's code (its tests aside) names
//! through `crate::` only modules below it in [`ORDER`], so that values, file formats and kernels
//! never reach up into the trainer, the callbacks or the optimizers.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Top to bottom: a module may import only modules after it.
const ORDER: &[&str] = &[
    "prelude",
    "trainer",
    "callbacks",
    "persist",
    "model",
    "optimizers",
    "losses",
    "layers",
    "data",
    "metrics",
    "target",
    "state",
    "device",
    "kernels",
    "distribution",
    "atomic_file",
    "element",
    "error",
];

/// Items the crate root re-exports, by the module that defines them.
const ROOT_ITEMS: &[(&str, &str)] = &[
    ("Error", "error"),
    ("Result", "error"),
    ("DeviceError", "error"),
    ("Trainer", "trainer"),
    ("Element", "element"),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("source folder reads") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether an attribute line makes what follows test-only: `#[cfg(test)]`, or `#[cfg(all(test,
/// ...))]` (test code behind a feature too).
fn is_test_cfg(trimmed: &str) -> bool {
    trimmed.starts_with("#[cfg(test)]") || trimmed.starts_with("#[cfg(all(test,")
}

/// The files of the modules `path` declares test-only (`#[cfg(test)] mod name;`): they are tests,
/// wholly, as a `#[cfg(test)]` block is.
fn test_only_modules(path: &Path) -> Vec<PathBuf> {
    let text = fs::read_to_string(path).expect("source reads");
    let stem = path.file_stem().expect("name").to_string_lossy();
    let dir = match stem.as_ref() {
        "mod" | "lib" => path.parent().expect("a folder").to_path_buf(),
        _ => path.with_extension(""),
    };
    let mut out = Vec::new();
    let mut test_cfg = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if is_test_cfg(trimmed) {
            test_cfg = true;
            continue;
        }
        if test_cfg && trimmed.starts_with("#[") {
            continue;
        }
        if test_cfg {
            let declared = trimmed
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ")
                .strip_prefix("mod ")
                .and_then(|rest| rest.strip_suffix(';'));
            if let Some(name) = declared {
                out.push(dir.join(format!("{name}.rs")));
                out.push(dir.join(name).join("mod.rs"));
            }
        }
        test_cfg = false;
    }
    out
}

/// The code of a file without its comment lines and without the items under `#[cfg(test)]`
/// (a `mod tests;` line, or a block up to its closing brace).
fn code_of(path: &Path) -> String {
    strip_tests(&fs::read_to_string(path).expect("source reads"))
}

fn strip_tests(text: &str) -> String {
    let mut out = Vec::new();
    let (mut skipping, mut depth, mut opened) = (false, 0i32, false);
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        if is_test_cfg(trimmed) {
            (skipping, depth, opened) = (true, 0, false);
            continue;
        }
        if skipping {
            if trimmed.starts_with("#[") {
                continue;
            }
            depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
            opened |= line.contains('{');
            if (opened && depth <= 0) || (!opened && trimmed.ends_with(';')) {
                skipping = false;
            }
            continue;
        }
        out.push(line);
    }
    out.join("\n")
}

/// The first path segment after each `crate::` (each member of a `crate::{..}` group).
fn crate_paths(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut item) = (1, String::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (depth == 1 && c == ',') {
                    out.insert(ident(&item));
                    item.clear();
                    if depth == 0 {
                        break;
                    }
                } else {
                    item.push(c);
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out
}

#[test]
fn every_module_imports_only_modules_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rank = |m: &str| ORDER.iter().position(|o| *o == m);
    let mut seen = BTreeSet::new();
    let mut wrong = Vec::new();
    for entry in fs::read_dir(&src).expect("src reads") {
        let path = entry.expect("entry").path();
        let name = path
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if name == "lib" {
            continue;
        }
        let Some(own) = rank(&name) else {
            wrong.push(format!("module `{name}` is not in ORDER"));
            continue;
        };
        seen.insert(name.clone());
        let mut files = Vec::new();
        if path.is_dir() {
            rust_files(&path, &mut files);
        } else {
            files.push(path.clone());
        }
        let tests: BTreeSet<PathBuf> = files.iter().flat_map(|f| test_only_modules(f)).collect();
        for file in files.iter().filter(|f| !tests.contains(*f)) {
            for target in crate_paths(&code_of(file)) {
                let module = ROOT_ITEMS
                    .iter()
                    .find(|(item, _)| *item == target)
                    .map_or(target.as_str(), |(_, m)| m);
                match rank(module) {
                    Some(r) if r < own => wrong.push(format!(
                        "{} imports `{module}`, which is above `{name}`",
                        file.display()
                    )),
                    _ => {}
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up:\n{}",
        wrong.join("\n")
    );
    assert!(
        seen.len() > 10,
        "found only {seen:?} under {}",
        src.display()
    );
}

#[test]
fn the_import_scan_reads_groups_and_skips_comments_and_tests() {
    let code = "use crate::{a::X, b::{Y, Z}, c};\n// crate::hidden\n#[cfg(test)]\nmod tests;\n\
                #[cfg(test)]\nmod more {\n    use crate::t;\n    fn f() { crate::u(); }\n}\n\
                fn g() { let _ = crate::d::f(); }";
    let found: Vec<String> = crate_paths(&strip_tests(code)).into_iter().collect();
    assert_eq!(found, ["a", "b", "c", "d"]);
    let gated = "#[cfg(all(test, feature = \"x\"))]\nuse crate::t;\nuse crate::e;";
    let found: Vec<String> = crate_paths(&strip_tests(gated)).into_iter().collect();
    assert_eq!(found, ["e"]);
}

#[test]
fn a_module_declared_for_tests_only_is_a_test_file() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/kernels/update/mod.rs");
    let tests = test_only_modules(&src);
    let emulated = src.with_file_name("emulated.rs");
    assert!(tests.contains(&emulated), "{tests:?}");
    assert!(
        !tests.contains(&src.with_file_name("launch.rs")),
        "{tests:?}"
    );
}
