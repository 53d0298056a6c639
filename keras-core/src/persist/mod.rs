//! File formats' shared pieces, below the callbacks and optimizers that write files: the
//! CRC-32C, and the checksum seal that every safetensors file the project writes and reads back
//! (checkpoints, optimizer state) carries in its header.

mod atomic;
pub mod crc32c;
pub mod keras;
mod seal;

pub use atomic::temp_path;
pub(crate) use atomic::{write_atomically, write_atomically_as, write_atomically_via};

pub(crate) use seal::{add_placeholder, read_sealed};
pub use seal::{seal, verify_seal, SEAL_KEY};
