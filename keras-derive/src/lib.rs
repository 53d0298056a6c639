//! Derive macros for keras-rs models.
use proc_macro::TokenStream;

/// Placeholder.
#[proc_macro_derive(Sequential, attributes(model, layer))]
pub fn derive_sequential(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
