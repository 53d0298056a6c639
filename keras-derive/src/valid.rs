//! Semantic checks on a parsed model: at least one layer, and adjacent literal widths agree.

use crate::{
    ast::Input,
    widths::{flow, Flow, Unit},
};

/// Validates `input` for the given derive; all errors are spanned and combined.
pub fn validate(input: &Input<'_>, sequential: bool, derive_name: &str) -> syn::Result<()> {
    if input.layers().next().is_none() {
        return Err(syn::Error::new_spanned(
            input.ident,
            format!("#[derive({derive_name})] needs at least one layer field"),
        ));
    }
    if sequential {
        check_widths(input)?;
    }
    Ok(())
}

fn check_widths(input: &Input<'_>) -> syn::Result<()> {
    let mut errors: Option<syn::Error> = None;
    // The running width: (value, unit, field that produced it).
    let mut current: Option<(u64, Unit, &syn::Ident)> = None;
    for layer in input.layers() {
        match flow(layer.ty) {
            Flow::Maps {
                input: expected,
                output,
            } => {
                if let (Some((want, want_unit)), Some((have, have_unit, prev))) =
                    (expected, current)
                {
                    if want_unit == have_unit && want != have {
                        let e = syn::Error::new_spanned(
                            layer.ty,
                            format!(
                                "layer `{}` expects {} input {} but `{}` produces {}",
                                layer.ident,
                                want,
                                want_unit.word(),
                                prev,
                                have
                            ),
                        );
                        match &mut errors {
                            Some(all) => all.combine(e),
                            None => errors = Some(e),
                        }
                    }
                }
                current = output.map(|(v, u)| (v, u, layer.ident));
            }
            Flow::PassThrough => {}
            Flow::Unknown => current = None,
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
