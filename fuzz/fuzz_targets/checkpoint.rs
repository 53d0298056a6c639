//! The checkpoint and optimizer-state loaders (`load_weights`, `load_optimizer_state`,
//! `read_state`) on arbitrary file contents. They read paths, so the input goes to a temp file
//! first. Never panics; a successful load is self-consistent.
#![no_main]

use keras_core::callbacks::{load_optimizer_state, load_weights};
use keras_core::optimizers::{read_state, FlatParams};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let path = std::env::temp_dir().join(format!(
        "keras-fuzz-checkpoint-{}.safetensors",
        std::process::id()
    ));
    std::fs::write(&path, bytes).expect("the fuzzer's temp file is writable");
    let layout = FlatParams::from_layout([("a.kernel", &[2usize, 2][..]), ("a.bias", &[2][..])]);
    if let Ok(values) = load_weights(&path, &layout) {
        assert_eq!(values.len(), layout.values.len());
    }
    if let Ok(state) = load_optimizer_state(&path) {
        assert!(state.iter().map(|(_, v)| v.len()).sum::<usize>() * 4 <= bytes.len());
    }
    if let Ok(state) = read_state(&path) {
        assert!(state.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(state.iter().map(|(_, v)| v.len()).sum::<usize>() * 4 <= bytes.len());
    }
});
