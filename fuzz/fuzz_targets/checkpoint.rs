//! The checkpoint and optimizer-state loaders (`load_weights`, `load_optimizer_state`,
//! `read_state`) on arbitrary file contents. They read paths, so the input goes to a temp file
//! first. Never panics; a successful load is self-consistent. Every file carries a CRC-32C seal
//! that almost no mutation keeps valid, so each input runs twice: as it is (the seal check), and
//! re-sealed when it holds a seal field (the parser behind the seal).
#![no_main]

use keras_core::persist::{load_optimizer_state, load_weights, read_state};
use keras_core::state::FlatParams;
use libfuzzer_sys::fuzz_target;

/// Zeroes the eight digits of `bytes`' first `"crc32c":"…"` field and seals the file again;
/// `false` when there is no such field.
fn reseal(bytes: &mut [u8]) -> bool {
    let key = b"\"crc32c\":\"";
    let Some(at) = bytes.windows(key.len()).position(|w| w == key) else {
        return false;
    };
    let start = at + key.len();
    let Some(digits) = bytes.get_mut(start..start + 8) else {
        return false;
    };
    digits.copy_from_slice(b"00000000");
    keras_core::persist::seal(bytes).is_ok()
}

fuzz_target!(|bytes: &[u8]| {
    load_all(bytes);
    let mut sealed = bytes.to_vec();
    if reseal(&mut sealed) {
        load_all(&sealed);
    }
});

fn load_all(bytes: &[u8]) {
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
}
