//! Semantic checks on a parsed model: at least one layer, no plain-data field left unskipped,
//! layer parameters in order, and adjacent literal widths and image sizes agree.

use crate::{
    ast::Input,
    param_order,
    plain_types::is_plain,
    widths::{flow, spatial, Flow, Spatial, Unit},
};

/// Why a derive input is refused.
pub enum Invalid {
    /// The fields themselves (no layer, a plain type without `#[layer(skip)]`): nothing can be
    /// generated.
    Fields(syn::Error),
    /// Adjacent layers' widths disagree: the parameter impls can still be generated.
    Widths(syn::Error),
    /// A layer type has its generic parameters out of order: rustc reports that type too, and
    /// the code generated as usual adds nothing to its error.
    ParamOrder(syn::Error),
}

/// Validates `input` for the given derive; all errors are spanned and combined.
pub fn validate(input: &Input<'_>, sequential: bool, derive_name: &str) -> Result<(), Invalid> {
    if input.layers().next().is_none() {
        let why = if input.fields.is_empty() {
            format!("`{}` has no fields", input.ident)
        } else {
            format!("every field of `{}` is `#[layer(skip)]`", input.ident)
        };
        return Err(Invalid::Fields(syn::Error::new_spanned(
            input.ident,
            format!("#[derive({derive_name})] needs at least one layer field; {why}"),
        )));
    }
    check_plain_fields(input, sequential).map_err(Invalid::Fields)?;
    param_order::check(input).map_err(Invalid::ParamOrder)?;
    if sequential {
        check_widths(input).map_err(Invalid::Widths)?;
    }
    Ok(())
}

/// Fields of plain standard types (`String`, `usize`, `Vec<_>`, references, ...) must be
/// `#[layer(skip)]`.
fn check_plain_fields(input: &Input<'_>, sequential: bool) -> syn::Result<()> {
    let left_out = if sequential {
        "left out of the forward pass and the parameters"
    } else {
        "left out of the parameters"
    };
    let mut errors: Option<syn::Error> = None;
    for layer in input.layers().filter(|f| is_plain(f.ty)) {
        let e = syn::Error::new_spanned(
            layer.ty,
            format!(
                "field `{}` is not a layer; mark it `#[layer(skip)]` ({left_out}, and rebuilt with `Default::default()`)",
                layer.ident
            ),
        );
        match &mut errors {
            Some(all) => all.combine(e),
            None => errors = Some(e),
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The first pair of adjacent layers whose literal widths or image sizes disagree, as one error
/// naming both fields and both shapes (Keras too stops at the first layer that cannot take its
/// input).
fn check_widths(input: &Input<'_>) -> syn::Result<()> {
    let fail = |ty: &syn::Type, message: String| Err(syn::Error::new_spanned(ty, message));
    // The running width: (value, unit, field that produced it).
    let mut current: Option<(u64, Unit, &syn::Ident)> = None;
    // The running image size (height, width, field that set it), when known.
    let mut size: Option<(u64, u64, &syn::Ident)> = None;
    for layer in input.layers() {
        let name = layer.ident;
        match spatial(layer.ty) {
            Spatial::Sets { window, out } => {
                if let (Some(win), Some((h, w, prev))) = (window, size) {
                    let k = win.kernel;
                    match (win.output(h), win.output(w), out) {
                        (Some(oh), Some(ow), Some((want_h, want_w)))
                            if (oh, ow) != (want_h, want_w) =>
                        {
                            return fail(
                                layer.ty,
                                format!(
                                    "layer `{name}` declares {want_h}x{want_w} outputs but its {k}x{k} window with stride {} and padding {} over the {h}x{w} images of `{prev}` gives {oh}x{ow}",
                                    win.stride, win.padding
                                ),
                            );
                        }
                        (None, _, _) | (_, None, _) => {
                            return fail(
                                layer.ty,
                                format!(
                                    "layer `{name}`'s {k}x{k} window (stride {}, padding {}) does not fit the {h}x{w} images of `{prev}`",
                                    win.stride, win.padding
                                ),
                            );
                        }
                        _ => {}
                    }
                }
                size = out.map(|(h, w)| (h, w, name));
            }
            Spatial::Keeps => {}
            Spatial::Flattens(n) => match (n, size, current) {
                (Some(n), Some((h, w, prev)), Some((c, Unit::Channels, _))) if n != h * w * c => {
                    return fail(
                        layer.ty,
                        format!(
                            "layer `{name}` expects {n} input features but `{prev}` produces {h}x{w}x{c} = {} values per sample",
                            h * w * c
                        ),
                    );
                }
                (Some(n), None, Some((v, unit, prev))) if v > 0 && n % v != 0 => {
                    return fail(
                        layer.ty,
                        format!(
                            "layer `{name}` expects {n} input features but `{prev}` produces {v} {} per position, and {n} is not a multiple of {v}",
                            unit.word()
                        ),
                    );
                }
                _ => size = None,
            },
            Spatial::Clears => size = None,
        }
        match flow(layer.ty) {
            Flow::Maps {
                input: expected,
                output,
            } => {
                if let (Some((want, want_unit)), Some((have, have_unit, prev))) =
                    (expected, current)
                {
                    if want_unit == have_unit && want != have {
                        return fail(
                            layer.ty,
                            format!(
                                "layer `{name}` expects {want} input {} but `{prev}` produces {have}",
                                want_unit.word()
                            ),
                        );
                    }
                }
                current = output.map(|(v, u)| (v, u, name));
            }
            Flow::Keeps(expected) => {
                if let (Some(want), Some((have, unit, prev))) = (expected, current) {
                    if want != have {
                        return fail(
                            layer.ty,
                            format!(
                                "layer `{name}` expects {want} input {} but `{prev}` produces {have}",
                                unit.word()
                            ),
                        );
                    }
                    current = Some((want, unit, name));
                } else if expected.is_none() {
                    current = None;
                }
            }
            Flow::ChannelsToFeatures => {
                current = current.map(|(v, unit, prev)| match unit {
                    Unit::Channels => (v, Unit::Features, name),
                    Unit::Features => (v, unit, prev),
                });
            }
            Flow::PassThrough => {}
            Flow::Unknown => current = None,
        }
    }
    Ok(())
}
