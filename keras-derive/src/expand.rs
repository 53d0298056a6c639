//! From a `DeriveInput` to generated code: parse, validate, emit.

use proc_macro2::TokenStream;
use quote::quote;

use crate::{ast::Input, error_stub, forward, forward_stub, keras_layers, paths, tensors, valid};

/// Which derive is expanding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `#[derive(Sequential)]`: forward pass and parameters.
    Sequential,
    /// `#[derive(Model)]`: parameters only.
    Model,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Sequential => "Sequential",
            Kind::Model => "Model",
        }
    }
}

/// Runs the pipeline for one derive.
pub fn derive(input: &syn::DeriveInput, kind: Kind) -> syn::Result<TokenStream> {
    let kc = paths::core();
    // A struct the derive rejects still gets inert model impls beside the error, so that the
    // error is the program's only one.
    let rejected = |e: syn::Error| {
        let error = e.into_compile_error();
        let stub = error_stub::expand(input, &kc, kind == Kind::Sequential);
        quote!(#error #stub)
    };
    let parsed = match Input::from_syn(input, kind.name()) {
        Ok(parsed) => parsed,
        Err(e) => return Ok(rejected(e)),
    };
    let tensors = tensors::expand(&parsed, &kc);
    let keras = keras_layers::expand(&parsed, &kc, kind == Kind::Sequential);
    let collection = quote!(#tensors #keras);
    let mut order_error = None;
    match valid::validate(&parsed, kind == Kind::Sequential, kind.name()) {
        Ok(()) => {}
        // A misordered layer type is an error of rustc's too; everything else is generated as
        // usual (it adds nothing to that error), the derive's message first.
        Err(valid::Invalid::ParamOrder(e)) => order_error = Some(e.into_compile_error()),
        // After a width error the parameter impls and an identity forward still come out, so
        // that building and training the model report nothing more than the error itself.
        Err(valid::Invalid::Widths(e)) => {
            let error = e.into_compile_error();
            let stub = forward_stub::expand(&parsed, &kc);
            return Ok(quote!(#error #collection #stub));
        }
        Err(valid::Invalid::Fields(e)) => return Ok(rejected(e)),
    }
    let forward = match kind {
        Kind::Sequential => {
            let inference = forward::expand(&parsed, &kc, forward::Pass::Inference);
            let training = forward::expand(&parsed, &kc, forward::Pass::Training);
            quote!(#inference #training)
        }
        Kind::Model => quote!(),
    };
    Ok(quote!(#order_error #collection #forward))
}
