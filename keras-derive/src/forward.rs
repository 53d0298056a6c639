//! Emits the forward pass of a `Sequential` model: `Module` (inference) and `ModuleMut`
//! (training), each field applied in declaration order.
//!
//! Each step's trait bound and call are spanned at the field's type, so a shape mismatch that the
//! literal width check could not see is reported on the offending field.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::Input;

/// Which of dfdx's forward traits to emit.
#[derive(Clone, Copy)]
pub enum Pass {
    /// `Module::try_forward(&self)`: inference.
    Inference,
    /// `ModuleMut::try_forward_mut(&mut self)`: training (dropout active, batch statistics).
    Training,
}

/// The forward impl block for one pass.
pub fn expand(input: &Input<'_>, kc: &TokenStream, pass: Pass) -> TokenStream {
    let ident = input.ident;
    let d = input.device;
    let e = input.dtype;
    let (_, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut generics = input.generics.clone();
    generics.params.push(syn::parse_quote!(__KerasInput));
    let (impl_generics, _, _) = generics.split_for_impl();

    let (trait_path, method, receiver) = match pass {
        Pass::Inference => (
            quote!(#kc::dfdx::nn::Module),
            quote!(try_forward),
            quote!(&self),
        ),
        Pass::Training => (
            quote!(#kc::dfdx::nn::ModuleMut),
            quote!(try_forward_mut),
            quote!(&mut self),
        ),
    };
    let err = quote!(<#d as #kc::dfdx::tensor::HasErr>::Err);

    let mut preds: Vec<TokenStream> = where_clause
        .map(|w| w.predicates.iter().map(|p| quote!(#p)).collect())
        .unwrap_or_default();
    preds.push(quote!(#e: #kc::dfdx::shapes::Dtype));
    preds.push(quote!(#d: #kc::dfdx::tensor_ops::Device<#e>));
    let mut steps = Vec::new();
    let mut current = quote!(__KerasInput);
    for f in input.layers() {
        let ty = f.ty;
        let name = f.ident;
        let span = ty.span();
        preds.push(quote_spanned! {span=> #ty: #trait_path<#current, Error = #err> });
        let field = match pass {
            Pass::Inference => quote_spanned! {span=> &self.#name },
            Pass::Training => quote_spanned! {span=> &mut self.#name },
        };
        steps.push(quote_spanned! {span=> let x = #trait_path::#method(#field, x)?; });
        current = quote!(<#ty as #trait_path<#current>>::Output);
    }
    quote! {
        #[automatically_derived]
        #[allow(clippy::type_complexity, unused_qualifications)]
        impl #impl_generics #trait_path<__KerasInput> for #ident #ty_generics
        where
            #(#preds,)*
        {
            type Output = #current;
            type Error = #err;

            fn #method(#receiver, x: __KerasInput) -> ::core::result::Result<Self::Output, Self::Error> {
                #(#steps)*
                ::core::result::Result::Ok(x)
            }
        }
    }
}
