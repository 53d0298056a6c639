//! The absolute path generated code uses to reach keras-core (through the `keras` facade when
//! the user depends on it).

use proc_macro2::TokenStream;
use quote::quote;

/// `::keras`, `::keras_core`, or `crate` inside keras-core itself.
pub fn core() -> TokenStream {
    use proc_macro_crate::{crate_name, FoundCrate};
    for name in ["keras", "keras-core"] {
        match crate_name(name) {
            Ok(FoundCrate::Itself) => {
                return if name == "keras-core" {
                    quote!(::keras_core)
                } else {
                    quote!(::keras)
                }
            }
            Ok(FoundCrate::Name(n)) => {
                let ident = syn::Ident::new(&n, proc_macro2::Span::call_site());
                return quote!(::#ident);
            }
            Err(_) => {}
        }
    }
    quote!(::keras_core)
}
