//! Compiles keras-core's CUDA kernels (`src/**/*.cu`) to PTX with `nvcc`, as dfdx's build script
//! does, when the `cuda` feature is on. Under `ci-check` (a type check without a CUDA toolkit)
//! each PTX is an empty file. The GPU architecture is `$CUDA_COMPUTE_CAP` (e.g. `90`), else the
//! first GPU's compute capability from `nvidia-smi`; `nvcc` is `$NVCC`, else `$CUDA_ROOT/bin/nvcc`,
//! else the one on the PATH.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    // A kernel file added later must rerun the script too: watch the directory they live in.
    println!("cargo:rerun-if-changed=src/kernels");
    let mut kernels = Vec::new();
    find_files(Path::new("src"), "cu", &mut kernels);
    // The headers they include (`#include "../block_sum4.cuh"`) must rebuild them too.
    let mut headers = Vec::new();
    find_files(Path::new("src"), "cuh", &mut headers);
    for file in kernels.iter().chain(&headers) {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    if std::env::var_os("CARGO_FEATURE_CI_CHECK").is_some() {
        for kernel in &kernels {
            std::fs::write(ptx_path(&out_dir, kernel), "").expect("write an empty PTX file");
        }
        return;
    }
    println!("cargo:rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo:rerun-if-env-changed=NVCC");
    println!("cargo:rerun-if-env-changed=CUDA_ROOT");
    let arch = compute_cap();
    let nvcc = nvcc();
    for kernel in &kernels {
        let out = ptx_path(&out_dir, kernel);
        let output = Command::new(&nvcc)
            .arg(format!("--gpu-architecture=sm_{arch}"))
            .arg("--ptx")
            // The same arithmetic as the CPU kernels: no contraction into fused multiply-adds,
            // IEEE division and square root.
            .args(["--fmad=false", "--prec-div=true", "--prec-sqrt=true"])
            .arg("-o")
            .arg(&out)
            .arg(kernel)
            .output()
            .unwrap_or_else(|e| panic!("could not run `{}`: {e}", nvcc.display()));
        assert!(
            output.status.success(),
            "nvcc failed on {}:\n{}\n{}",
            kernel.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Every file under `dir` whose extension is `ext`, sorted.
fn find_files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read the source directory")
        .map(|e| e.expect("read a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            find_files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// `OUT_DIR/<stem>.ptx`.
fn ptx_path(out_dir: &Path, kernel: &Path) -> PathBuf {
    let stem = kernel.file_stem().expect("a kernel file has a name");
    out_dir.join(stem).with_extension("ptx")
}

fn nvcc() -> PathBuf {
    if let Some(nvcc) = std::env::var_os("NVCC") {
        return nvcc.into();
    }
    if let Some(root) = std::env::var_os("CUDA_ROOT") {
        let nvcc = Path::new(&root).join("bin").join("nvcc");
        if nvcc.is_file() {
            return nvcc;
        }
    }
    "nvcc".into()
}

/// `$CUDA_COMPUTE_CAP`, else the first GPU's from `nvidia-smi` (`9.0` → `90`).
fn compute_cap() -> String {
    if let Ok(cap) = std::env::var("CUDA_COMPUTE_CAP") {
        return cap.replace('.', "");
    }
    let output = Command::new("nvidia-smi")
        .args(["--query-gpu=compute_cap", "--format=csv,noheader"])
        .output()
        .expect("`nvidia-smi` failed: set CUDA_COMPUTE_CAP (e.g. 90) where no GPU is present");
    let text = String::from_utf8_lossy(&output.stdout);
    let cap = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && *l != "compute_cap")
        .expect("`nvidia-smi` printed no compute capability: set CUDA_COMPUTE_CAP");
    cap.replace('.', "")
}
