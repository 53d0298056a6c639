//! The typed form of a derive input: a named-field struct generic over a dtype and a device.

use crate::attr::{self, FieldAttrs};

/// A model struct.
pub struct Input<'a> {
    /// The struct's name.
    pub ident: &'a syn::Ident,
    /// Its generics, as written.
    pub generics: &'a syn::Generics,
    /// The dtype parameter (first type parameter).
    pub dtype: &'a syn::Ident,
    /// The device parameter (second type parameter).
    pub device: &'a syn::Ident,
    /// The fields, in declaration order.
    pub fields: Vec<Field<'a>>,
}

/// One field (a layer, or a skipped non-layer field).
pub struct Field<'a> {
    /// The field's name.
    pub ident: &'a syn::Ident,
    /// Its type.
    pub ty: &'a syn::Type,
    /// Its parsed `#[layer(...)]` attributes.
    pub attrs: FieldAttrs,
}

impl<'a> Input<'a> {
    /// Reads a `DeriveInput`, rejecting what the derive cannot handle with spanned errors.
    pub fn from_syn(input: &'a syn::DeriveInput, derive_name: &str) -> syn::Result<Self> {
        let data = match &input.data {
            syn::Data::Struct(data) => data,
            syn::Data::Enum(e) => {
                return Err(syn::Error::new(
                    e.enum_token.span,
                    format!(
                        "#[derive({derive_name})] supports structs with named fields, not enums"
                    ),
                ))
            }
            syn::Data::Union(u) => {
                return Err(syn::Error::new(
                    u.union_token.span,
                    format!(
                        "#[derive({derive_name})] supports structs with named fields, not unions"
                    ),
                ))
            }
        };
        let named = match &data.fields {
            syn::Fields::Named(named) => named,
            syn::Fields::Unnamed(f) => {
                return Err(syn::Error::new_spanned(
                    f,
                    format!("#[derive({derive_name})] needs named fields (each field names a layer); tuple structs are not supported"),
                ))
            }
            syn::Fields::Unit => {
                return Err(syn::Error::new_spanned(
                    &input.ident,
                    format!("#[derive({derive_name})] needs a struct with at least one layer field; a unit struct has none"),
                ))
            }
        };
        let (dtype, device) = dtype_and_device(input, derive_name)?;
        let mut fields = Vec::new();
        let mut errors: Option<syn::Error> = None;
        for f in &named.named {
            match attr::parse_field(f) {
                Ok(attrs) => fields.push(Field {
                    // Named fields always carry an ident.
                    ident: match &f.ident {
                        Some(i) => i,
                        None => continue,
                    },
                    ty: &f.ty,
                    attrs,
                }),
                Err(e) => match &mut errors {
                    Some(all) => all.combine(e),
                    None => errors = Some(e),
                },
            }
        }
        if let Some(e) = errors {
            return Err(e);
        }
        Ok(Input {
            ident: &input.ident,
            generics: &input.generics,
            dtype,
            device,
            fields,
        })
    }

    /// The fields that are layers (not `#[layer(skip)]`).
    pub fn layers(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| !f.attrs.skip)
    }
}

fn dtype_and_device<'a>(
    input: &'a syn::DeriveInput,
    derive_name: &str,
) -> syn::Result<(&'a syn::Ident, &'a syn::Ident)> {
    let generics = &input.generics;
    let mut types = Vec::new();
    for param in &generics.params {
        match param {
            syn::GenericParam::Type(t) => types.push(&t.ident),
            syn::GenericParam::Lifetime(l) => {
                return Err(syn::Error::new_spanned(
                    l,
                    format!("#[derive({derive_name})] models cannot have lifetime parameters: a model owns its layers"),
                ))
            }
            syn::GenericParam::Const(c) => {
                return Err(syn::Error::new_spanned(
                    c,
                    format!("#[derive({derive_name})] models take exactly two type parameters, the dtype and the device (e.g. `struct Mlp<E: Dtype, D: Device<E>>`); put widths in the layer types instead of const parameters"),
                ))
            }
        }
    }
    match types.as_slice() {
        [e, d] => Ok((e, d)),
        _ => Err(syn::Error::new(
            if generics.params.is_empty() {
                input.ident.span()
            } else {
                syn::spanned::Spanned::span(&generics.params)
            },
            format!("#[derive({derive_name})] models take exactly two type parameters, the dtype and the device: write `struct {}<E: Dtype, D: Device<E>>` and use `E, D` in each layer type", input.ident),
        )),
    }
}
