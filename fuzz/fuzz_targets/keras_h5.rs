//! Keras's weights files on arbitrary bytes: `WeightsH5::from_bytes` (the pure-Rust HDF5 reader
//! under it: superblock, object headers, B-trees, heaps, dataspaces) and `KerasArchive` (the
//! `.keras` zip), never panic, and every parsed dataset holds as many values as its shape says.
#![no_main]

use keras_core::persist::keras::{KerasArchive, WeightsH5};
use libfuzzer_sys::fuzz_target;

fn check(file: &WeightsH5) {
    for array in file.arrays.values() {
        let numel: usize = array.shape.iter().product();
        assert_eq!(array.data.len(), numel);
    }
}

fuzz_target!(|bytes: &[u8]| {
    if let Ok(file) = WeightsH5::from_bytes(bytes.to_vec()) {
        check(&file);
    }
    if let Ok(archive) = KerasArchive::from_bytes(bytes) {
        if let Ok(file) = WeightsH5::from_bytes(archive.weights) {
            check(&file);
        }
    }
});
