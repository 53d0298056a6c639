//! Data.

pub mod loaders;
