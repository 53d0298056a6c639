//! Emits `KerasLayers` for a model: its layers as Keras's files describe them, fields in
//! declaration order (nested models flattened), so that a model reads and writes Keras's
//! `.weights.h5` and `.keras` files. A `#[derive(Model)]` model is not `SEQUENTIAL`: its
//! forward pass is hand-written, so no Keras `Sequential` config describes it.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::Input;

/// The `impl KerasLayers` block. Each layer field's type is bounded under a higher-ranked
/// `for<'__k>`, so a model holding a layer Keras has no description for still compiles: it
/// just has no `KerasLayers`, which only the Keras file functions ask for.
pub fn expand(input: &Input<'_>, kc: &TokenStream, sequential: bool) -> TokenStream {
    let ident = input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut where_preds: Vec<TokenStream> = where_clause
        .map(|w| w.predicates.iter().map(|p| quote!(#p)).collect())
        .unwrap_or_default();
    let mut calls = Vec::new();
    let mut field_types = Vec::new();
    for f in input.layers() {
        field_types.push(f.ty);
        let (name, ty) = (f.ident, f.ty);
        let name_str = name.to_string();
        where_preds.push(quote_spanned!(ty.span()=> for<'__k> #ty: #kc::layers::KerasLayers));
        calls.push(quote! {
            #kc::layers::KerasLayers::keras_layers(
                &self.#name,
                &#kc::layers::join_path(path, #name_str),
                out,
            )?;
        });
    }
    quote! {
        #[automatically_derived]
        #[allow(clippy::type_complexity, unused_qualifications)]
        impl #impl_generics #kc::layers::KerasLayers for #ident #ty_generics
        where
            #(#where_preds,)*
        {
            const SEQUENTIAL: bool = #sequential #(&& <#field_types as #kc::layers::KerasLayers>::SEQUENTIAL)*;

            fn keras_layers(
                &self,
                path: &str,
                out: &mut ::std::vec::Vec<#kc::layers::KerasLayerSpec>,
            ) -> #kc::Result<()> {
                #(#calls)*
                ::core::result::Result::Ok(())
            }
        }
    }
}
