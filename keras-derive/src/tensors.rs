//! Emits dfdx's `TensorCollection` for a model: the parameter plumbing (build, zero grads,
//! parameter count, save/load with field-path names, device and dtype moves).

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::Input;

/// dfdx's `ModuleFields` is implemented for tuples of at most this many members; larger models
/// nest tuples.
const MAX_TUPLE: usize = 6;

/// The `impl TensorCollection<E, D>` block.
pub fn expand(input: &Input<'_>, kc: &TokenStream) -> TokenStream {
    let ident = input.ident;
    let (e, d) = (input.dtype, input.device);
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut where_preds: Vec<TokenStream> = where_clause
        .map(|w| w.predicates.iter().map(|p| quote!(#p)).collect())
        .unwrap_or_default();
    where_preds.push(quote!(#e: #kc::Element));
    where_preds.push(quote!(#d: #kc::dfdx::tensor_ops::Device<#e>));

    let fields: Vec<TokenStream> = input
        .layers()
        .map(|f| {
            let name = f.ident;
            let name_str = name.to_string();
            quote_spanned! {f.ty.span()=>
                Self::module(#name_str, |s| &s.#name, |s| &mut s.#name)
            }
        })
        .collect();
    let bindings: Vec<TokenStream> = input
        .layers()
        .map(|f| {
            let b = format_ident!("__{}", f.ident);
            quote!(#b)
        })
        .collect();
    let inits = input.fields.iter().map(|f| {
        let name = f.ident;
        if f.attrs.skip {
            quote!(#name: ::core::default::Default::default())
        } else if f.attrs.settings.is_empty() {
            let b = format_ident!("__{}", f.ident);
            quote!(#name: #b)
        } else {
            // Hyper-parameters from `#[layer(key = value)]`, set on every build, move and
            // conversion; a key the layer has no public field for is an error at the key.
            let b = format_ident!("__{}", f.ident);
            let sets = f.attrs.settings.iter().map(|s| {
                let (key, value) = (&s.key, &s.value);
                quote_spanned!(key.span()=> __layer.#key = #value;)
            });
            quote!(#name: {
                let mut __layer = #b;
                #(#sets)*
                __layer
            })
        }
    });
    let fields_tuple = nest(&fields);
    let pattern = nest(&bindings);
    // Replace the dtype and device in the struct's own type arguments with E2 and D2.
    let to_args = input.generics.params.iter().map(|p| match p {
        syn::GenericParam::Type(t) if &t.ident == e => quote!(__E2),
        syn::GenericParam::Type(t) if &t.ident == d => quote!(__D2),
        syn::GenericParam::Type(t) => {
            let i = &t.ident;
            quote!(#i)
        }
        syn::GenericParam::Lifetime(l) => {
            let l = &l.lifetime;
            quote!(#l)
        }
        syn::GenericParam::Const(c) => {
            let i = &c.ident;
            quote!(#i)
        }
    });
    quote! {
        #[automatically_derived]
        #[allow(clippy::type_complexity, unused_qualifications)]
        impl #impl_generics #kc::dfdx::nn::tensor_collection::TensorCollection<#e, #d>
            for #ident #ty_generics
        where
            #(#where_preds,)*
        {
            type To<__E2: #kc::dfdx::shapes::Dtype, __D2: #kc::dfdx::tensor_ops::Device<__E2>> =
                #ident<#(#to_args),*>;

            fn iter_tensors<__V: #kc::dfdx::nn::tensor_collection::ModuleVisitor<Self, #e, #d>>(
                visitor: &mut __V,
            ) -> ::core::result::Result<
                ::core::option::Option<Self::To<__V::E2, __V::D2>>,
                __V::Err,
            > {
                visitor.visit_fields(#fields_tuple, |#pattern| #ident { #(#inits),* })
            }
        }
    }
}

/// `(a, b, c)`, nested into tuples of at most [`MAX_TUPLE`] members.
fn nest(items: &[TokenStream]) -> TokenStream {
    if items.len() <= MAX_TUPLE {
        return quote!((#(#items,)*));
    }
    let chunk = items.len().div_ceil(MAX_TUPLE);
    let groups: Vec<TokenStream> = items.chunks(chunk).map(nest).collect();
    nest(&groups)
}
