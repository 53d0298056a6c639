//! Layer types written with their generic parameters out of order (`Dense<E, D, 784, 256>`):
//! rustc alone says "type provided when a constant was expected" and suggests braces, so the
//! derive first says the layer's parameter order.
//!
//! Only keras-core's layers (by their last path segment) are checked, and only for what is
//! certainly misplaced: the model's dtype or device parameter, a float type, a device type or
//! an activation where a size belongs, or the dtype/device in another layer parameter's place.
//! A named constant where a size belongs (`Dense<4, H, ...>`) is left alone.

use crate::ast::Input;

/// A layer's generic parameters, as its docs write them.
struct Order {
    /// The layer's name (last path segment).
    name: &'static str,
    /// Its parameter list, written out.
    signature: &'static str,
    /// How many const sizes come first.
    sizes: usize,
    /// The dtype's and the device's positions, for layers that hold tensors.
    dtype_device: Option<(usize, usize)>,
}

const ORDERS: &[Order] = &[
    Order {
        name: "Dense",
        signature: "Dense<IN, OUT, Activation, E, D>",
        sizes: 2,
        dtype_device: Some((3, 4)),
    },
    Order {
        name: "Conv2D",
        signature: "Conv2D<IN, OUT, K, OH, OW, S, P, Activation, E, D>",
        sizes: 7,
        dtype_device: Some((8, 9)),
    },
    Order {
        name: "Embedding",
        signature: "Embedding<VOCAB, DIM, E, D>",
        sizes: 2,
        dtype_device: Some((2, 3)),
    },
    Order {
        name: "BatchNormalization",
        signature: "BatchNormalization<C, E, D>",
        sizes: 1,
        dtype_device: Some((1, 2)),
    },
    Order {
        name: "LayerNormalization",
        signature: "LayerNormalization<M, E, D>",
        sizes: 1,
        dtype_device: Some((1, 2)),
    },
    Order {
        name: "Normalization",
        signature: "Normalization<C, E, D, INVERT>",
        sizes: 1,
        dtype_device: Some((1, 2)),
    },
    Order {
        name: "MaxPool2D",
        signature: "MaxPool2D<K, OH, OW, S>",
        sizes: 4,
        dtype_device: None,
    },
    Order {
        name: "MaxPooling2D",
        signature: "MaxPooling2D<K, OH, OW, S>",
        sizes: 4,
        dtype_device: None,
    },
    Order {
        name: "AvgPool2D",
        signature: "AvgPool2D<K, OH, OW, S>",
        sizes: 4,
        dtype_device: None,
    },
    Order {
        name: "AveragePooling2D",
        signature: "AveragePooling2D<K, OH, OW, S>",
        sizes: 4,
        dtype_device: None,
    },
    Order {
        name: "Flatten",
        signature: "Flatten<N>",
        sizes: 1,
        dtype_device: None,
    },
];

/// Types that are never a size: dtypes, devices and activations.
const NOT_SIZES: &[&str] = &[
    "f16",
    "bf16",
    "f32",
    "f64",
    "Cpu",
    "Cuda",
    "Linear",
    "ReLU",
    "Relu",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "Gelu",
    "GeLU",
    "LeakyReLU",
    "LeakyRelu",
    "Elu",
    "ELU",
    "Softplus",
    "Swish",
    "SiLU",
    "Silu",
];

/// Checks every layer field's type; one spanned error per misordered type, combined.
pub fn check(input: &Input<'_>) -> syn::Result<()> {
    let mut errors: Option<syn::Error> = None;
    for layer in input.layers() {
        if let Some(e) = misordered(layer.ident, layer.ty, input.dtype, input.device) {
            match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            }
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The error for `ty` when it is a known layer with a parameter certainly out of place.
fn misordered(
    field: &syn::Ident,
    ty: &syn::Type,
    dtype: &syn::Ident,
    device: &syn::Ident,
) -> Option<syn::Error> {
    let syn::Type::Path(p) = ty else {
        return None;
    };
    let seg = p.path.segments.last()?;
    let order = ORDERS.iter().find(|o| seg.ident == o.name)?;
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    let misplaced = args.args.iter().enumerate().find_map(|(i, arg)| {
        let name = type_name(arg)?;
        let is_dtype = name == dtype;
        let is_device = name == device;
        let wrong = if i < order.sizes {
            is_dtype || is_device || NOT_SIZES.iter().any(|n| *name == *n)
        } else {
            match order.dtype_device {
                Some((e, d)) => (is_dtype && i != e) || (is_device && i != d),
                None => is_dtype || is_device,
            }
        };
        wrong.then(|| name.to_string())
    })?;
    let what = if order.sizes == 1 {
        "its size first"
    } else {
        "its sizes first"
    };
    Some(syn::Error::new_spanned(
        ty,
        format!(
            "layer `{field}`: `{}` takes {what}: `{}` (`{misplaced}` is out of place)",
            order.name, order.signature
        ),
    ))
}

/// The identifier of a generic argument that is a one-segment type path (`E`, `f32`, `ReLU`).
fn type_name(arg: &syn::GenericArgument) -> Option<&syn::Ident> {
    match arg {
        syn::GenericArgument::Type(syn::Type::Path(p)) if p.qself.is_none() => p.path.get_ident(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(field_ty: &str) -> Option<String> {
        let src = format!("struct M<E, D> {{ a: {field_ty} }}");
        let derive: syn::DeriveInput = syn::parse_str(&src).expect("test struct parses");
        let parsed = Input::from_syn(&derive, "Sequential").expect("test struct is a model");
        check(&parsed).err().map(|e| e.to_string())
    }

    #[test]
    fn dtype_and_device_before_the_sizes_are_reported_with_the_order() {
        assert_eq!(
            error("Dense<E, D, 784, 256>").as_deref(),
            Some("layer `a`: `Dense` takes its sizes first: `Dense<IN, OUT, Activation, E, D>` (`E` is out of place)")
        );
        assert!(
            error("BatchNormalization<E, D, 64>").is_some_and(
                |e| e.starts_with("layer `a`: `BatchNormalization` takes its size first")
            )
        );
    }

    #[test]
    fn activations_and_concrete_types_where_a_size_belongs_are_reported() {
        assert!(error("Dense<ReLU, 784, 256, E, D>").is_some());
        assert!(error("Dense<f32, Cpu, 784, 256>").is_some());
        assert!(error("Conv2D<1, 8, 3, 26, 26, ReLU, E, D>").is_some());
    }

    #[test]
    fn dtype_or_device_in_another_parameters_place_is_reported() {
        assert!(error("Dense<784, 256, E, D>").is_some());
        assert!(error("Dense<784, 256, ReLU, D, E>").is_some());
        assert!(error("MaxPool2D<2, 13, 13, E>").is_some());
    }

    #[test]
    fn well_ordered_layers_and_named_sizes_are_accepted() {
        for ty in [
            "Dense<784, 256, ReLU, E, D>",
            "Dense<784, 256>",
            "Dense<4, H, ReLU, E, D>",
            "Dense<{ 2 * 2 }, 8, Linear, f32, Cpu>",
            "Conv2D<1, 8, 3, 26, 26, 1, 0, ReLU, E, D>",
            "BatchNormalization<64, E, D>",
            "Normalization<3, E, D, true>",
            "MaxPool2D<2, 13, 13>",
            "Flatten<1352>",
            "MyBlock<E, D>",
        ] {
            assert_eq!(error(ty), None, "{ty}");
        }
    }
}
