//! Field types that are plain data, never layers: a field of one of these without
//! `#[layer(skip)]` is reported at expansion time, instead of as an unsatisfied dfdx
//! `TensorCollection` bound.
//!
//! Only standard-library types are listed; anything else is left to the trait bounds.

/// Standard-library types (last path segment) that hold no parameters and have no forward pass.
const PLAIN: &[&str] = &[
    "bool",
    "char",
    "str",
    "f32",
    "f64",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "String",
    "Vec",
    "VecDeque",
    "Option",
    "PhantomData",
    "HashMap",
    "HashSet",
    "BTreeMap",
    "BTreeSet",
    "Box",
    "Rc",
    "Arc",
    "Cell",
    "RefCell",
    "Mutex",
    "RwLock",
    "PathBuf",
    "Duration",
    "Instant",
];

/// `true` when `ty` is a reference, a pointer, a slice, or a standard type from [`PLAIN`]:
/// certainly not a layer.
pub fn is_plain(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(_) | syn::Type::Ptr(_) | syn::Type::Slice(_) => true,
        syn::Type::Paren(p) => is_plain(&p.elem),
        syn::Type::Group(g) => is_plain(&g.elem),
        syn::Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|seg| PLAIN.contains(&seg.ident.to_string().as_str())),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_plain;

    fn ty(s: &str) -> syn::Type {
        syn::parse_str(s).expect("test type parses")
    }

    #[test]
    fn standard_data_types_and_references_are_plain() {
        for s in [
            "String",
            "usize",
            "Vec<f32>",
            "std::marker::PhantomData<(E, D)>",
            "&'a str",
            "[u8]",
        ] {
            assert!(is_plain(&ty(s)), "{s}");
        }
    }

    #[test]
    fn layers_and_unknown_types_are_not_plain() {
        for s in [
            "Dense<4, 8, ReLU, E, D>",
            "ReLU",
            "MyBlock<E, D>",
            "(ReLU, Tanh)",
            "Tensor<Rank1<3>, E, D>",
        ] {
            assert!(!is_plain(&ty(s)), "{s}");
        }
    }
}
