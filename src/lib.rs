//! # keras
//!
//! Keras 3's training and evaluation orchestrator for Rust, with compile-time shapes.
//!
//! This facade re-exports [`keras_core`] (layers, losses, metrics, optimizers, callbacks, data,
//! the trainer) and the derive macros of `keras_derive` (`Sequential`, `Model`).
//!
//! ```
//! use keras::prelude::*;
//!
//! #[derive(Sequential)]
//! struct Mlp<E: Dtype, D: Device<E>> {
//!     hidden: Dense<4, 8, ReLU, E, D>,
//!     out: Dense<8, 3, Linear, E, D>,
//! }
//!
//! let dev = Cpu::seed_from_u64(0);
//! let model = Mlp::<f32, Cpu>::build(&dev);
//! assert_eq!(model.num_trainable_params(), 4 * 8 + 8 + 8 * 3 + 3);
//!
//! let x: Vec<f32> = (0..32 * 4).map(|i| (i % 7) as f32 / 7.0).collect();
//! let y: Vec<f32> = (0..32).map(|i| (i % 3) as f32).collect();
//! let data = ArrayDataset::<Rank1<4>, Sparse>::new(x, y)?;
//! let mut trainer = Trainer::compile(
//!     model,
//!     Adam::new().with_learning_rate(1e-2).build()?,
//!     losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
//!     (metrics::ResolvedAccuracy::default(),),
//!     &dev,
//! )?;
//! let history = trainer.fit(&data).epochs(3).batch_size(8).verbose(0).run()?;
//! assert_eq!(history.get("loss").map(|l| l.len()), Some(3));
//! # Ok::<(), keras::Error>(())
//! ```
#![deny(missing_docs)]

pub use keras_core::*;

/// The README's examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
