//! Emits the forward pass of a `Sequential` model: `Module` (inference) and `ModuleMut`
//! (training), each field applied in declaration order. In inference a `Conv2D` field followed
//! by a `MaxPool2D` (or `MaxPooling2D`) field is one step, `ForwardThen`, which a device may
//! run as one fused kernel; the training pass keeps every field its own step. A `Dense` field
//! runs through `DenseLayer` in both passes (its training forward is its inference forward).
//!
//! Each step's trait bound and call are spanned at the field's type, so a shape mismatch that the
//! literal width check could not see is reported on the offending field.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
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
    let input_ty = input_param(input);
    let mut generics = input.generics.clone();
    generics.params.push(syn::parse_quote!(#input_ty));

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
    // One type parameter per step output, bound through `Output = ...`: each layer's bound then
    // names its input directly instead of a nested projection, so a layer that rejects its input
    // is the only unsatisfied bound.
    let mut steps = Vec::new();
    let mut current = quote!(#input_ty);
    let mut last_span = ident.span();
    let layers: Vec<_> = input.layers().collect();
    let mut i = 0;
    while i < layers.len() {
        let f = layers[i];
        let ty = f.ty;
        let name = f.ident;
        let span = ty.span();
        last_span = span;
        // In inference, a `Conv2D` followed by a max pooling is one step (`ForwardThen`), which
        // a device may run as one fused kernel; that step's output is the pooling's.
        let fused = match (pass, layers.get(i + 1)) {
            (Pass::Inference, Some(next)) if fuses(ty, next.ty) => Some(next),
            _ => None,
        };
        let out = format_ident!("__KerasOut_{}", fused.map_or(name, |n| n.ident));
        generics.params.push(syn::parse_quote!(#out));
        let field = match pass {
            Pass::Inference => quote_spanned! {span=> &self.#name },
            Pass::Training => quote_spanned! {span=> &mut self.#name },
        };
        // The whole bound carries the field's span (not the derive's), so an unsatisfied bound is
        // reported as "introduced here" at the field instead of at `#[derive(Sequential)]`.
        if let Some(next) = fused {
            let next_ty = next.ty;
            let next_name = next.ident;
            let then = quote!(#kc::layers::ForwardThen);
            let bound = respan(
                quote!(#then<#next_ty, #current, Output = #out, Error = #err>),
                span,
            );
            preds.push(quote_spanned! {span=> #ty: #bound });
            steps.push(quote_spanned! {span=>
                let x = #then::try_forward_then(#field, &self.#next_name, x)?;
            });
            last_span = next_ty.span();
            i += 2;
        } else if is_dense(ty) {
            // `Dense` (whose training forward is its inference forward) through `DenseLayer`,
            // not `Module`: rustc then names this field in an input-shape error instead of
            // hiding it as a repeat of `Dense`'s own `Module` requirement.
            let layer = quote!(#kc::layers::DenseLayer);
            let bound = respan(quote!(#layer<#current, Output = #out, Error = #err>), span);
            preds.push(quote_spanned! {span=> #ty: #bound });
            steps.push(quote_spanned! {span=> let x = #layer::try_dense(&self.#name, x)?; });
            i += 1;
        } else {
            let bound = respan(
                quote!(#trait_path<#current, Output = #out, Error = #err>),
                span,
            );
            preds.push(quote_spanned! {span=> #ty: #bound });
            steps.push(quote_spanned! {span=> let x = #trait_path::#method(#field, x)?; });
            i += 1;
        }
        current = quote!(#out);
    }
    let (impl_generics, _, _) = generics.split_for_impl();
    // The output type is the last layer's: a mismatch with the expected output points there.
    let output = respan(quote!(type Output = #current;), last_span);
    let body = quote! {
        #output
        type Error = #err;

        fn #method(#receiver, x: #input_ty) -> ::core::result::Result<Self::Output, Self::Error> {
            #(#steps)*
            ::core::result::Result::Ok(x)
        }
    };
    // The impl's attributes, header and braces carry the struct's span, so rustc points at the
    // struct (not at `#[derive(Sequential)]`) and does not describe this impl's bounds as a
    // derive's blanket bounds on type parameters ("consider manually implementing").
    let mut braces = Group::new(Delimiter::Brace, body);
    braces.set_span(ident.span());
    let attrs_and_header = respan(
        quote! {
            #[automatically_derived]
            #[allow(clippy::type_complexity, unused_qualifications, non_camel_case_types)]
            impl #impl_generics #trait_path<#input_ty> for #ident #ty_generics
        },
        ident.span(),
    );
    quote! {
        #attrs_and_header
        where
            #(#preds,)*
        #braces
    }
}

/// The last segment of a type's path: `Dense` for `keras::layers::Dense<4, 8>`.
fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// Whether a field of type `ty` is keras's `Dense` (by the last segment of its path, as the
/// width check reads layer types), whose forward the model calls through `DenseLayer`.
fn is_dense(ty: &syn::Type) -> bool {
    type_name(ty).as_deref() == Some("Dense")
}

/// Whether a field of type `a` followed by one of type `b` is one inference step through
/// `ForwardThen`: `a` is named `Conv2D` and `b` `MaxPool2D` or `MaxPooling2D` (by the last
/// segment of their paths, as the width check reads layer types).
fn fuses(a: &syn::Type, b: &syn::Type) -> bool {
    type_name(a).as_deref() == Some("Conv2D")
        && matches!(type_name(b).as_deref(), Some("MaxPool2D" | "MaxPooling2D"))
}

/// The name of the impl's input type parameter: `Input` (it shows in error messages), or
/// `__KerasInput` when the struct already mentions an `Input` (its name, or a layer type's).
pub(crate) fn input_param(input: &Input<'_>) -> syn::Ident {
    let (ident, generics) = (input.ident, input.generics);
    let where_clause = &generics.where_clause;
    let types = input.fields.iter().map(|f| f.ty);
    let mentions_input = mentions(quote!(#ident #generics #where_clause #(#types)*), "Input");
    let name = if mentions_input {
        "__KerasInput"
    } else {
        "Input"
    };
    syn::Ident::new(name, Span::call_site())
}

/// Whether `tokens` contain the identifier `name`, at any depth.
fn mentions(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(i) => i == name,
        TokenTree::Group(g) => mentions(g.stream(), name),
        _ => false,
    })
}

/// `tokens` with every token (and group delimiter) moved to `span`.
pub(crate) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(g) = &tt {
                let mut group = Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tt = TokenTree::Group(group);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input_name(src: &str) -> String {
        let derive: syn::DeriveInput = syn::parse_str(src).expect("test struct parses");
        let parsed = Input::from_syn(&derive, "Sequential").expect("test struct is a model");
        input_param(&parsed).to_string()
    }

    #[test]
    fn the_input_parameter_is_called_input_unless_the_struct_mentions_one() {
        assert_eq!(
            input_name("struct M<E, D> { a: Dense<2, 3, ReLU, E, D> }"),
            "Input"
        );
        assert_eq!(
            input_name("struct M<E, D> { a: layers::Input<E, D> }"),
            "__KerasInput"
        );
        assert_eq!(
            input_name("struct Input<E, D> { a: Dense<2, 3, ReLU, E, D> }"),
            "__KerasInput"
        );
        assert_eq!(
            input_name("struct M<E, D> { a: Dense<2, 3, ReLU, E, D>, #[layer(skip)] b: Input }"),
            "__KerasInput"
        );
    }
}
