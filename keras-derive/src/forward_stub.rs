//! The forward pass of a `Sequential` model whose layer widths do not fit: emitted beside the
//! width error so that the code that builds and trains the model reports nothing else.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Input;
use crate::forward::{input_param, respan};

/// The forward impls of a model whose layer widths do not fit (a width error is emitted with
/// them), in both passes, so that code which builds and trains the model reports nothing but
/// that error: any input to a `(batch, K)` output when the layer types tell the final width `K`,
/// else the identity. They never run: the crate does not build.
pub fn expand(input: &Input<'_>, kc: &TokenStream) -> TokenStream {
    let ident = input.ident;
    let d = input.device;
    let e = input.dtype;
    let (_, ty_generics, where_clause) = input.generics.split_for_impl();
    let input_ty = input_param(input);
    let mut generics = input.generics.clone();
    let final_k = crate::widths::final_features(input.layers().map(|f| f.ty));
    let (input_type, output_type, body) = match final_k {
        Some(k) => {
            let k = proc_macro2::Literal::u64_unsuffixed(k);
            generics
                .params
                .push(syn::parse_quote!(__KerasShape: #kc::dfdx::shapes::Shape));
            generics
                .params
                .push(syn::parse_quote!(__KerasTape: #kc::dfdx::tensor::Tape<#e, #d>));
            (
                quote!(#kc::dfdx::tensor::Tensor<__KerasShape, #e, #d, __KerasTape>),
                quote!(#kc::dfdx::tensor::Tensor<(usize, #kc::dfdx::shapes::Const<#k>), #e, #d, __KerasTape>),
                quote!(::core::unreachable!(
                    "a model whose layer widths do not fit is never built"
                )),
            )
        }
        None => {
            generics.params.push(syn::parse_quote!(#input_ty));
            (
                quote!(#input_ty),
                quote!(#input_ty),
                quote!(::core::result::Result::Ok(x)),
            )
        }
    };
    let (impl_generics, _, _) = generics.split_for_impl();
    let mut preds: Vec<TokenStream> = where_clause
        .map(|w| w.predicates.iter().map(|p| quote!(#p)).collect())
        .unwrap_or_default();
    preds.push(quote!(#e: #kc::dfdx::shapes::Dtype));
    preds.push(quote!(#d: #kc::dfdx::tensor_ops::Device<#e>));
    let err = quote!(<#d as #kc::dfdx::tensor::HasErr>::Err);
    let head = Head {
        ident,
        impl_generics: quote!(#impl_generics),
        ty_generics: quote!(#ty_generics),
        preds: &preds,
    };
    forward_impls(kc, &head, &input_type, &output_type, &err, &body)
}

/// The parts of a stub impl's header: the model, the impl's generics and where-clause.
pub struct Head<'a> {
    /// The model's name.
    pub ident: &'a syn::Ident,
    /// `impl<...>`'s parameters.
    pub impl_generics: TokenStream,
    /// The model's type arguments.
    pub ty_generics: TokenStream,
    /// The where-clause's predicates.
    pub preds: &'a [TokenStream],
}

/// `Module` and `ModuleMut` impls of `input` with output `output`, error `err` and body `body`
/// (on input `x`), headers spanned at the model's name.
pub fn forward_impls(
    kc: &TokenStream,
    head: &Head<'_>,
    input: &TokenStream,
    output: &TokenStream,
    err: &TokenStream,
    body: &TokenStream,
) -> TokenStream {
    let Head {
        ident,
        impl_generics,
        ty_generics,
        preds,
    } = head;
    let passes = [
        (
            quote!(#kc::dfdx::nn::Module),
            quote!(try_forward),
            quote!(&self),
        ),
        (
            quote!(#kc::dfdx::nn::ModuleMut),
            quote!(try_forward_mut),
            quote!(&mut self),
        ),
    ];
    let impls = passes.iter().map(|(trait_path, method, receiver)| {
        let header = respan(
            quote! {
                #[automatically_derived]
                #[allow(clippy::type_complexity, unused_qualifications, non_camel_case_types, unused_variables)]
                impl #impl_generics #trait_path<#input> for #ident #ty_generics
            },
            ident.span(),
        );
        quote! {
            #header
            where
                #(#preds,)*
            {
                type Output = #output;
                type Error = #err;

                fn #method(#receiver, x: #input) -> ::core::result::Result<Self::Output, Self::Error> {
                    #body
                }
            }
        }
    });
    quote!(#(#impls)*)
}
