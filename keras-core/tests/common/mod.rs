//! Shared test helpers: Keras golden fixtures (`tests/fixtures/keras/*.json`) and tolerances.
#![allow(dead_code)]

pub mod any_optimizer;
pub mod keras_config;
pub mod recorder;
pub mod tiny;

use std::collections::BTreeMap;

/// An array from a golden file: shape and row-major data.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Array {
    /// Shape (`[]` for a scalar).
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<f64>,
}

impl Array {
    /// The data as `f32` (lossless for these files).
    pub fn f32(&self) -> Vec<f32> {
        self.data.iter().map(|&v| v as f32).collect()
    }
}

/// One golden case.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Case {
    /// Unique, human-readable; never parsed.
    pub name: String,
    /// Every constructor parameter, Keras defaults included.
    pub config: serde_json::Value,
    /// Named inputs.
    pub inputs: BTreeMap<String, Array>,
    /// Named expected outputs.
    pub expected: BTreeMap<String, Array>,
}

/// A whole golden file.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GoldenFile {
    /// Keras version that produced it.
    pub keras_version: String,
    /// `losses`, `metrics`, ...
    pub category: String,
    /// The cases.
    pub cases: Vec<Case>,
}

/// The folder of the golden files: `tests/fixtures/keras/` of the workspace root, or the folder
/// the environment variable `KERAS_GOLDEN_DIR` names (to run the harnesses on other files of
/// the same schema).
pub fn fixtures_dir() -> std::path::PathBuf {
    match std::env::var_os("KERAS_GOLDEN_DIR") {
        Some(dir) => dir.into(),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/keras"),
    }
}

/// Loads `<file>` from [`fixtures_dir`].
pub fn load(file: &str) -> GoldenFile {
    let path = fixtures_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path:?}: {e}"))
}

/// Any JSON file of [`fixtures_dir`] (the fixtures whose schema
/// is their own, as `embedding_fit.json`).
pub fn json(file: &str) -> serde_json::Value {
    let path = fixtures_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path:?}: {e}"))
}

/// A JSON array of numbers as `f32`.
pub fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap_or_else(|| panic!("not a number: {x}")) as f32)
        .collect()
}

/// Every case of the public fixture `<category>.json` and of this project's
/// `<category>_more.json` beside it (Keras-made, with its script), whatever their number.
/// The `_more` file is optional (not every category has one); the public one is not.
pub fn load_cases(category: &str) -> Vec<Case> {
    let more = format!("{category}_more.json");
    let has_more = fixtures_dir().join(&more).exists();
    let mut cases = load(&format!("{category}.json")).cases;
    if has_more {
        cases.extend(load(&more).cases);
    }
    cases
}

/// `|got - expected| <= tol * max(1, |expected|)`, the golden README's comparison.
pub fn close(got: f32, expected: f64, tol: f64) -> bool {
    let got = got as f64;
    (got - expected).abs() <= tol * expected.abs().max(1.0)
}

/// Compares element-wise; returns a description of the first mismatch.
pub fn compare(got: &[f32], expected: &Array, tol: f64) -> Result<(), String> {
    if got.len() != expected.data.len() {
        return Err(format!(
            "length {} != expected {} (shape {:?})",
            got.len(),
            expected.data.len(),
            expected.shape
        ));
    }
    for (i, (&g, &e)) in got.iter().zip(&expected.data).enumerate() {
        if !close(g, e, tol) {
            return Err(format!("element {i}: got {g}, expected {e} (tol {tol})"));
        }
    }
    Ok(())
}

/// Collects failures of a golden run and panics with all of them at the end, after asserting
/// that every case was attempted.
#[derive(Default)]
pub struct Report {
    /// Cases checked.
    pub checked: usize,
    /// Failure messages.
    pub failures: Vec<String>,
}

impl Report {
    /// Records one case's outcome.
    pub fn record(&mut self, name: &str, outcome: Result<(), String>) {
        self.checked += 1;
        if let Err(e) = outcome {
            self.failures.push(format!("{name}: {e}"));
        }
    }

    /// Panics if any case failed or if fewer than `expected_cases` were checked.
    pub fn finish(self, expected_cases: usize) {
        assert!(
            self.failures.is_empty(),
            "{} of {} cases failed:\n{}",
            self.failures.len(),
            self.checked,
            self.failures.join("\n")
        );
        assert_eq!(
            self.checked, expected_cases,
            "every case of the file must be checked"
        );
    }
}

/// The device the device-dependent tests run on: `Cpu`, or `Cuda` with the `cuda` feature (so the
/// same Keras golden tests run on the GPU).
#[cfg(not(feature = "cuda"))]
pub type TestDevice = keras_core::dfdx::tensor::Cpu;
/// The device the device-dependent tests run on: `Cpu`, or `Cuda` with the `cuda` feature (so the
/// same Keras golden tests run on the GPU).
#[cfg(feature = "cuda")]
pub type TestDevice = keras_core::dfdx::tensor::Cuda;

/// A seeded [`TestDevice`].
pub fn test_device(seed: u64) -> TestDevice {
    TestDevice::seed_from_u64(seed)
}

/// Tolerance multiplier for device math: 1 on the CPU; on CUDA, cuBLAS and fused kernels sum in
/// other orders, so results may move by a few ulps more (10x the CPU tolerance).
pub const DEVICE_TOL_FACTOR: f64 = if cfg!(feature = "cuda") { 10.0 } else { 1.0 };
