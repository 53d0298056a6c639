//! `#[layer(...)]` field attributes.

/// What `#[layer(...)]` says about a field.
#[derive(Default)]
pub struct FieldAttrs {
    /// `#[layer(skip)]`: not a layer; left out of the forward chain and the parameters, and
    /// rebuilt with `Default::default()` when the model is moved or converted.
    pub skip: bool,
}

/// Parses the `#[layer(...)]` attributes of one field; unknown keys are errors.
pub fn parse_field(field: &syn::Field) -> syn::Result<FieldAttrs> {
    let mut out = FieldAttrs::default();
    for attr in &field.attrs {
        if !attr.path().is_ident("layer") {
            continue;
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                if out.skip {
                    return Err(meta.error("duplicate `skip` in #[layer(...)]"));
                }
                out.skip = true;
                Ok(())
            } else {
                Err(meta.error("unknown #[layer(...)] attribute; the only one supported is `skip`"))
            }
        })?;
    }
    Ok(out)
}
