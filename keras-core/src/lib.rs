//! # keras-core
//!
//! Keras 3's training and evaluation orchestrator, rebuilt for Rust with compile-time shapes.
//!
//! - [`layers`]: Keras-default layers over dfdx tensors (`Dense`, activations, `Conv2D`, ...).
//! - [`losses`], [`metrics`], [`optimizers`]: Keras's classes with Keras's numbers.
//! - [`target`]: label layouts at the type level (`Sparse`, `Dense<K>`).
#![deny(missing_docs)]

extern crate self as keras_core;

mod atomic_file;
pub mod callbacks;
pub mod data;
pub mod device;
pub mod distribution;
pub mod element;
pub mod error;
pub mod kernels;
pub mod layers;
pub mod losses;
pub mod metrics;
pub mod model;
pub mod optimizers;
pub mod persist;
pub mod prelude;
pub mod state;
pub mod target;
pub mod trainer;

pub use element::Element;
pub use error::{DeviceError, Error, Result};
pub use keras_derive::{Model, Sequential};
pub use trainer::Trainer;

/// dfdx, re-exported so user code and generated code name one version.
pub use dfdx;
