//! Loaders that turn data files into flat `f32` arrays with shapes.
//!
//! - [`CsvData`]: CSV text (plain or gzip) into row-major features and labels, configured by
//!   [`CsvOptions`]; errors name the 1-based row and column.
//! - [`load_npy`] / [`load_npy_expect`] / [`save_npy`]: NumPy `.npy` files as [`NpyArray`].
//! - [`MappedNpy`]: a `.npy` file mapped into memory, read a sample at a time (behind
//!   [`NpyDataset`](super::NpyDataset)).
//! - [`load_npz`]: NumPy `.npz` archives (`np.savez` and `np.savez_compressed`) as [`Npz`].

mod csv;
mod csv_layout;
mod csv_lines;
mod csv_options;
mod gzip;
mod mapped_npy;
mod npy;
mod npy_header;
mod npz;
mod save_npy;
mod zip_members;

pub use self::csv::CsvData;
pub use csv_options::{Column, CsvHeader, CsvOptions, LabelEncoding};
pub use mapped_npy::MappedNpy;
pub use npy::{load_npy, load_npy_expect, NpyArray};
pub use npz::{load_npz, Npz};
pub use save_npy::save_npy;
