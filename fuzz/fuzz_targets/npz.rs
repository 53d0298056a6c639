//! `Npz::from_bytes` on arbitrary bytes (the `zip` crate's directory and deflate reading, the
//! size, CRC-32 and overlap checks, `.npy` parsing): never panics, and every parsed array is
//! self-consistent.
#![no_main]

use keras_core::data::loaders::Npz;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(npz) = Npz::from_bytes(bytes) {
        assert_eq!(npz.names().count(), npz.len());
        for (_, array) in npz.into_entries() {
            let numel: usize = array.shape.iter().product();
            assert_eq!(array.data.len(), numel);
        }
    }
});
