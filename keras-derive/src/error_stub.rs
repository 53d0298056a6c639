//! What a struct the derive rejects still gets beside the error: inert impls of the traits a
//! model has (`TensorCollection` in `f32`, so `build` resolves, and `Module`/`ModuleMut`), so that a
//! program that builds and trains it reports the derive's error and nothing else. They never
//! run: the crate does not build.

use proc_macro2::TokenStream;
use quote::quote;

use crate::forward::respan;
use crate::forward_stub::{forward_impls, Head};

/// The inert impls for `input`, a struct with named or unnamed fields (nothing for an enum or a
/// union, which is no model at all). With `forward` (`Sequential`; a `Model` writes its own) the
/// forward maps any input to `(batch, K)` when the last layer types tell the width `K`, else to
/// itself.
pub fn expand(input: &syn::DeriveInput, kc: &TokenStream, forward: bool) -> TokenStream {
    let syn::Data::Struct(data) = &input.data else {
        return quote!();
    };
    let ident = &input.ident;
    let (_, ty_generics, where_clause) = input.generics.split_for_impl();
    let preds: Vec<TokenStream> = where_clause
        .map(|w| w.predicates.iter().map(|p| quote!(#p)).collect())
        .unwrap_or_default();
    let with = |extra: TokenStream| {
        let mut generics = input.generics.clone();
        let extra: syn::Generics = syn::parse_quote!(<#extra>);
        generics.params.extend(extra.params);
        generics
    };
    let header = |tokens: TokenStream| respan(tokens, ident.span());
    let never = quote!(::core::unreachable!(
        "a model the derive rejected is never built"
    ));

    // For `f32` only: one impl, so that `build(&dev)` infers the dtype as for a real model.
    let collection_generics = with(quote!(__KerasD: #kc::dfdx::tensor_ops::Device<f32>));
    let (collection_impl, _, _) = collection_generics.split_for_impl();
    let collection_header = header(quote! {
        #[automatically_derived]
        #[allow(unused_qualifications, non_camel_case_types, unused_variables)]
        impl #collection_impl #kc::dfdx::nn::tensor_collection::TensorCollection<f32, __KerasD>
            for #ident #ty_generics
    });
    let collection = quote! {
        #collection_header
        where
            #(#preds,)*
        {
            type To<__KerasE2: #kc::dfdx::shapes::Dtype, __KerasD2: #kc::dfdx::tensor_ops::Device<__KerasE2>> = Self;

            fn iter_tensors<__KerasV: #kc::dfdx::nn::tensor_collection::ModuleVisitor<Self, f32, __KerasD>>(
                visitor: &mut __KerasV,
            ) -> ::core::result::Result<::core::option::Option<Self::To<__KerasV::E2, __KerasV::D2>>, __KerasV::Err> {
                #never
            }
        }
    };

    if !forward {
        return collection;
    }
    let final_k = crate::widths::final_features(data.fields.iter().map(|f| &f.ty));
    let forward_generics = with(quote!(
        __KerasS: #kc::dfdx::shapes::Shape,
        __KerasE: #kc::dfdx::shapes::Dtype,
        __KerasD: #kc::dfdx::tensor_ops::Device<__KerasE>,
        __KerasT: #kc::dfdx::tensor::Tape<__KerasE, __KerasD>
    ));
    let (forward_impl, _, _) = forward_generics.split_for_impl();
    let input_ty = quote!(#kc::dfdx::tensor::Tensor<__KerasS, __KerasE, __KerasD, __KerasT>);
    let output_ty = match final_k {
        Some(k) => {
            let k = proc_macro2::Literal::u64_unsuffixed(k);
            quote!(#kc::dfdx::tensor::Tensor<(usize, #kc::dfdx::shapes::Const<#k>), __KerasE, __KerasD, __KerasT>)
        }
        None => input_ty.clone(),
    };
    let err = quote!(<__KerasD as #kc::dfdx::tensor::HasErr>::Err);
    let head = Head {
        ident,
        impl_generics: quote!(#forward_impl),
        ty_generics: quote!(#ty_generics),
        preds: &preds,
    };
    let forwards = forward_impls(kc, &head, &input_ty, &output_ty, &err, &never);
    quote!(#collection #forwards)
}
