//! Derive macros for keras-rs models.
//!
//! - `#[derive(Sequential)]` on a struct of layers generates the forward pass (fields chained in
//!   declaration order, for inference and training inputs) and the parameter plumbing.
//! - `#[derive(Model)]` generates only the parameter plumbing, for models whose forward pass is
//!   written by hand (residual connections, several inputs).
//!
//! The pipeline follows thiserror's: [`ast`] reads the struct into a typed form, [`attr`] parses
//! attributes, [`valid`] checks it (layer widths written as literals, plain-data fields left
//! unskipped, layer parameters out of order), [`expand`] emits code. Errors are spanned
//! `syn::Error`s; the macro never panics.
#![deny(missing_docs)]

mod ast;
mod attr;
mod error_stub;
mod expand;
mod forward;
mod forward_stub;
mod keras_layers;
mod param_order;
mod paths;
mod plain_types;
mod tensors;
mod valid;
mod widths;

use proc_macro::TokenStream;

/// Derives the forward pass (fields chained in order) and the parameter plumbing (dfdx
/// `TensorCollection`: build, zero grads, parameter count, save/load with field-path names,
/// device moves) for a struct of layers generic over a dtype and a device.
///
/// A width mismatch between adjacent layers written with literal widths is a compile error that
/// names both fields and both widths; other shape mismatches are unsatisfied bounds reported at
/// the layer that rejects its input. A field whose type is named `Dense` is taken to be keras's
/// `Dense` and runs through `keras::layers::DenseLayer` (so an input it rejects is one error,
/// "`Dense<4, ..>` takes inputs of shape `(batch, 4)` ..., but was given ...", naming the field),
/// and a `Conv2D` field followed by a `MaxPool2D` runs as one inference step (`ForwardThen`). Fields that are not layers need `#[layer(skip)]` (a field
/// of a plain standard type such as `String` or `usize` without it is a compile error).
///
/// `#[layer(name = value, ...)]` sets a layer's hyper-parameters (its public fields:
/// `#[layer(rate = 0.2)]` on a `Dropout`, `#[layer(momentum = 0.9, epsilon = 1e-5)]` on a
/// `BatchNormalization`) whenever the model is built, moved to a device or converted, so that
/// they survive all three; a name the layer has no field for is a compile error at the name.
///
/// Also derives `KerasLayers` (the model's layers as Keras's files describe them, fields in
/// order) when every layer field has it.
#[proc_macro_derive(Sequential, attributes(layer))]
pub fn derive_sequential(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input, expand::Kind::Sequential)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives only the parameter plumbing (dfdx `TensorCollection`) for a model whose forward pass
/// is written by hand.
#[proc_macro_derive(Model, attributes(layer))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input, expand::Kind::Model)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
