//! File formats: every file the project writes and reads back, below the callbacks, the
//! optimizers' users and the trainer that decide when to write them.
//!
//! - [`checkpoint_file`]: weights, non-trainable weights and optimizer state as one sealed
//!   safetensors file (`ModelCheckpoint`, `Trainer::save_weights`);
//! - [`optimizer_state_file`]: an optimizer's state alone;
//! - `backup_file`: one generation of a `BackupAndRestore` backup;
//! - [`keras`]: Keras 3's own `.weights.h5` and `.keras` files;
//! - [`event_file`]: TensorBoard's TFRecord event files;
//! - [`file_template`] and [`py_format`]: Python format templates for file paths
//!   (`"weights.{epoch:02d}-{val_loss:.2f}.weights.h5"`);
//! - [`history_plot`]: a `History` as an SVG plot;
//! - the pieces they share: the CRC-32C, the checksum seal every safetensors file carries in
//!   its header, and the atomic writer (temporary file, fsync, rename, fsync of the directory).

pub(crate) mod backup_file;
pub mod checkpoint_file;
pub mod crc32c;
pub mod event_file;
pub mod file_template;
pub mod history_plot;
pub mod keras;
pub mod optimizer_state_file;
pub mod py_format;
mod seal;

pub use crate::atomic_file::temp_path;
pub(crate) use crate::atomic_file::{write_atomically, write_atomically_as, write_atomically_via};
pub use checkpoint_file::{
    check_hyper_parameters, load_hyper_parameters, load_non_trainable_weights,
    load_optimizer_state, load_weights, save_checkpoint, save_model_checkpoint,
    NON_TRAINABLE_PREFIX, OPTIMIZER_PREFIX,
};
pub use file_template::FileTemplate;
pub use history_plot::plot_history_svg;
pub use optimizer_state_file::{
    load_optimizer, load_optimizer_for, read_state, read_state_variables, save_optimizer,
    write_state,
};

pub(crate) use seal::{add_placeholder, read_sealed};
pub use seal::{seal, verify_seal, SEAL_KEY};
