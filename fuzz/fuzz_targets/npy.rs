//! `NpyArray::from_bytes` on arbitrary bytes: never panics, never over-allocates, and a parsed
//! array holds exactly `shape.product()` values.
#![no_main]

use keras_core::data::loaders::NpyArray;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(array) = NpyArray::from_bytes(bytes) {
        let numel: usize = array.shape.iter().product();
        assert_eq!(array.data.len(), numel);
        assert!(array.data.len() <= bytes.len());
    }
});
