//! `#[layer(...)]` field attributes.

/// One `name = value` hyper-parameter setting of `#[layer(...)]`.
pub struct Setting {
    /// The layer's field to set (`rate`).
    pub key: syn::Ident,
    /// The value (`0.2`).
    pub value: syn::Expr,
}

/// What `#[layer(...)]` says about a field.
#[derive(Default)]
pub struct FieldAttrs {
    /// `#[layer(skip)]`: not a layer; left out of the forward chain and the parameters, and
    /// rebuilt with `Default::default()` when the model is moved or converted.
    pub skip: bool,
    /// `#[layer(rate = 0.2, ...)]`: hyper-parameters (public fields of the layer) set whenever
    /// the model is built, moved to a device or converted, so they survive all three.
    pub settings: Vec<Setting>,
}

/// Parses the `#[layer(...)]` attributes of one field; unknown keys are errors.
pub fn parse_field(field: &syn::Field) -> syn::Result<FieldAttrs> {
    let mut out = FieldAttrs::default();
    for attr in &field.attrs {
        if !attr.path().is_ident("layer") {
            continue;
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") && !meta.input.peek(syn::Token![=]) {
                if out.skip {
                    return Err(meta.error("duplicate `skip` in #[layer(...)]"));
                }
                out.skip = true;
                Ok(())
            } else if meta.input.peek(syn::Token![=]) {
                let key = meta.path.require_ident()?.clone();
                if out.settings.iter().any(|s| s.key == key) {
                    return Err(meta.error(format!("`{key}` is set twice in #[layer(...)]")));
                }
                let value: syn::Expr = meta.value()?.parse()?;
                out.settings.push(Setting { key, value });
                Ok(())
            } else {
                Err(meta.error(
                    "unknown #[layer(...)] attribute; write `skip`, or `name = value` to set a \
                     hyper-parameter of the layer (`#[layer(rate = 0.2)]`)",
                ))
            }
        })?;
    }
    if out.skip {
        if let Some(s) = out.settings.first() {
            return Err(syn::Error::new_spanned(
                &s.key,
                "a `#[layer(skip)]` field is not a layer and takes no hyper-parameters",
            ));
        }
    }
    Ok(out)
}
