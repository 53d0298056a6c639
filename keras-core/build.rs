//! Compiles keras-core's CUDA kernels (`src/**/*.cu`) to PTX with `nvcc`, as dfdx's build script
//! does, when the `cuda` feature is on. Under `ci-check` (a type check without a CUDA toolkit)
//! each PTX is an empty file. The GPU architecture is `$CUDA_COMPUTE_CAP` (e.g. `90`), else the
//! first GPU's compute capability from `nvidia-smi`; `nvcc` is `$NVCC`, else `$CUDA_ROOT/bin/nvcc`,
//! else the one on the PATH.
//!
//! With the `cuda-emulation` feature (tests only), it also compiles the same `.cu` files as C++
//! for the CPU, with `emulation/cuda_emulation.hpp` standing in for CUDA's built-ins, so that the
//! kernels run (block by block, each thread a fiber) in `cargo test`: see
//! `src/kernels/emulation/mod.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "cuda-emulation")]
    emulation::compile();
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

/// The CPU emulation of the kernels (`cuda-emulation`).
#[cfg(feature = "cuda-emulation")]
mod emulation {
    use std::fmt::Write as _;
    use std::path::{Path, PathBuf};

    /// Compiles every `.cu` file under `src` (rewritten for the emulation), the emulation's
    /// runtime and a table of the kernels into the static library `keras_cuda_emulation`.
    pub fn compile() {
        let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
        let dir = out_dir.join("emulation");
        std::fs::create_dir_all(&dir).expect("create the emulation's build directory");
        let root = std::fs::canonicalize(".").expect("the package directory");
        let header = root.join("emulation/cuda_emulation.hpp");
        println!("cargo:rerun-if-changed=emulation");
        println!("cargo:rerun-if-changed=src/kernels");
        let mut kernels = Vec::new();
        super::find_files(Path::new("src"), "cu", &mut kernels);
        let mut headers = Vec::new();
        super::find_files(Path::new("src"), "cuh", &mut headers);
        let mut build = cc::Build::new();
        build
            .cpp(true)
            .std("c++17")
            .opt_level(2)
            .warnings(false)
            // The same arithmetic as the PTX: no fused multiply-adds.
            .flag("-ffp-contract=off")
            .flag("-pthread")
            .file(root.join("emulation/runtime.cpp"))
            .include(root.join("emulation"));
        let mut names = Vec::new();
        for file in kernels.iter().chain(&headers) {
            println!("cargo:rerun-if-changed={}", file.display());
        }
        for kernel in &kernels {
            let source = std::fs::read_to_string(kernel).expect("read a kernel file");
            let path = root.join(kernel);
            let mut unit = format!(
                "#include \"{}\"\n#line 1 \"{}\"\n",
                header.display(),
                path.display()
            );
            unit.push_str(&dynamic_shared(&source));
            unit.push('\n');
            for name in global_kernels(&source) {
                writeln!(
                    unit,
                    "extern \"C\" void keras_emu_run_{name}(void **p) {{ keras_emu_invoke({name}, p); }}\n\
                     extern \"C\" size_t keras_emu_arity_{name}() {{ return keras_emu_arity({name}); }}"
                )
                .expect("write to a string");
                names.push(name);
            }
            let stem = kernel.file_stem().expect("a kernel file has a name");
            let out = dir.join(stem).with_extension("cpp");
            std::fs::write(&out, unit).expect("write an emulated kernel file");
            build.file(out);
            build.include(path.parent().expect("a kernel file has a directory"));
        }
        let mut table = String::from("#include <stddef.h>\n");
        for name in &names {
            writeln!(
                table,
                "extern \"C\" void keras_emu_run_{name}(void **);\n\
                 extern \"C\" size_t keras_emu_arity_{name}();"
            )
            .expect("write to a string");
        }
        table.push_str(
            "struct KerasEmuKernel { const char *name; void (*run)(void **); size_t arity; };\n\
             extern \"C\" const KerasEmuKernel *keras_emu_table(size_t *count) {\n\
             static const KerasEmuKernel table[] = {\n",
        );
        for name in &names {
            writeln!(
                table,
                "{{\"{name}\", keras_emu_run_{name}, keras_emu_arity_{name}()}},"
            )
            .expect("write to a string");
        }
        writeln!(table, "}};\n*count = {};\nreturn table;\n}}", names.len())
            .expect("write to a string");
        let table_file = dir.join("kernel_table.cpp");
        std::fs::write(&table_file, table).expect("write the kernel table");
        build.file(table_file);
        build.compile("keras_cuda_emulation");
    }

    /// The names of the `__global__` functions of a `.cu` file.
    fn global_kernels(source: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut rest = source;
        while let Some(at) = rest.find("__global__ void ") {
            rest = &rest[at + "__global__ void ".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
        }
        names
    }

    /// `extern __shared__ T name[];` rewritten as a pointer to the emulated block's dynamic
    /// shared memory.
    fn dynamic_shared(source: &str) -> String {
        source
            .lines()
            .map(|line| {
                let trimmed = line.trim();
                match trimmed
                    .strip_prefix("extern __shared__ ")
                    .and_then(|d| d.strip_suffix("[];"))
                {
                    Some(declaration) => {
                        let split = declaration.rfind(' ').expect("a type and a name");
                        let (ty, name) = (&declaration[..split], &declaration[split + 1..]);
                        format!("{ty} *{name} = ({ty} *)keras_emu_dynamic_shared();")
                    }
                    None => line.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}
