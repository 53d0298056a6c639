//! # keras
//!
//! Facade over [`keras_core`] and [`keras_derive`].
pub use keras_core::*;
pub use keras_derive::*;
