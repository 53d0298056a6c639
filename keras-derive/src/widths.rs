//! Reading layer widths written as integer literals in field types (`Dense<784, 256, ...>`).
//!
//! Only what is known from the tokens is checked here; widths given as named constants or
//! generic parameters are left to the trait bounds of the generated forward pass.

/// What a width counts: dense features or convolution channels.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Features of a `(batch, features)` tensor.
    Features,
    /// Channels of a `(batch, channels, height, width)` tensor.
    Channels,
}

impl Unit {
    /// The word used in messages.
    pub fn word(self) -> &'static str {
        match self {
            Unit::Features => "features",
            Unit::Channels => "channels",
        }
    }
}

/// How a layer type relates its input width to its output width.
pub enum Flow {
    /// Expects `input` (when known) and produces `output` (when known).
    Maps {
        /// Expected input width.
        input: Option<(u64, Unit)>,
        /// Produced output width.
        output: Option<(u64, Unit)>,
    },
    /// Keeps the width whatever it is (activations, dropout, pooling windows).
    PassThrough,
    /// Expects the running width to be this one (when known, in either unit) and keeps it
    /// (BatchNormalization, LayerNormalization, Normalization: `C` features or channels).
    Keeps(Option<u64>),
    /// Turns channels into as many features (global pooling).
    ChannelsToFeatures,
    /// A layer this check does not know: forget the running width.
    Unknown,
}

/// Classifies a field type by its last path segment and literal generic arguments.
pub fn flow(ty: &syn::Type) -> Flow {
    let syn::Type::Path(p) = ty else {
        return Flow::Unknown;
    };
    let Some(seg) = p.path.segments.last() else {
        return Flow::Unknown;
    };
    let args: Vec<Option<u64>> = match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => a.args.iter().map(literal).collect(),
        _ => Vec::new(),
    };
    let arg = |i: usize| args.get(i).copied().flatten();
    match seg.ident.to_string().as_str() {
        "Dense" => Flow::Maps {
            input: arg(0).map(|v| (v, Unit::Features)),
            output: arg(1).map(|v| (v, Unit::Features)),
        },
        "Conv2D" => Flow::Maps {
            input: arg(0).map(|v| (v, Unit::Channels)),
            output: arg(1).map(|v| (v, Unit::Channels)),
        },
        "Flatten" => Flow::Maps {
            input: None,
            output: arg(0).map(|v| (v, Unit::Features)),
        },
        "Embedding" => Flow::Maps {
            input: None,
            output: arg(1).map(|v| (v, Unit::Features)),
        },
        "BatchNormalization" | "LayerNormalization" | "Normalization" => Flow::Keeps(arg(0)),
        "GlobalAveragePooling2D" => Flow::ChannelsToFeatures,
        "Linear" | "ReLU" | "Relu" | "Sigmoid" | "Tanh" | "Softmax" | "Gelu" | "GeLU"
        | "LeakyReLU" | "LeakyRelu" | "Elu" | "ELU" | "Softplus" | "Swish" | "SiLU" | "Silu"
        | "Dropout" | "MaxPool2D" | "MaxPooling2D" | "AvgPool2D" | "AveragePooling2D" => {
            Flow::PassThrough
        }
        _ => Flow::Unknown,
    }
}

/// A sliding window (`Conv2D`, pooling): kernel size, stride and padding on each side.
#[derive(Clone, Copy)]
pub struct Window {
    /// Kernel size `K` (square).
    pub kernel: u64,
    /// Stride `S`.
    pub stride: u64,
    /// Zero padding `P` on each side.
    pub padding: u64,
}

impl Window {
    /// The output size over an input of size `n`, `(n + 2P - K) / S + 1`; `None` when the
    /// window does not fit or the stride is zero.
    pub fn output(self, n: u64) -> Option<u64> {
        let padded = n + 2 * self.padding;
        (padded >= self.kernel && self.stride > 0).then(|| (padded - self.kernel) / self.stride + 1)
    }
}

/// How a layer type changes the spatial size `(height, width)` of channels-last images.
pub enum Spatial {
    /// Produces images of size `out` when both are literals (`Conv2D`, pooling windows), or of
    /// a size not known from the tokens; `window` when its kernel, stride and padding are.
    Sets {
        /// The window that produces them, when known.
        window: Option<Window>,
        /// The produced `(height, width)`, when known.
        out: Option<(u64, u64)>,
    },
    /// Keeps the size (activations, normalisations, dropout).
    Keeps,
    /// `Flatten<N>`: expects `N == height * width * channels` features.
    Flattens(Option<u64>),
    /// Anything else: images end here, or the check cannot follow them.
    Clears,
}

/// Classifies a field type by how it changes image sizes.
pub fn spatial(ty: &syn::Type) -> Spatial {
    let syn::Type::Path(p) = ty else {
        return Spatial::Clears;
    };
    let Some(seg) = p.path.segments.last() else {
        return Spatial::Clears;
    };
    let args: Vec<Option<u64>> = match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => a.args.iter().map(literal).collect(),
        _ => Vec::new(),
    };
    let pair = |i: usize| match (
        args.get(i).copied().flatten(),
        args.get(i + 1).copied().flatten(),
    ) {
        (Some(h), Some(w)) => Some((h, w)),
        _ => None,
    };
    // A const argument at `i`: its literal value, or `default` when it is left out.
    let or_default = |i: usize, default: Option<u64>| match args.get(i) {
        Some(v) => *v,
        None => default,
    };
    let window = |k: Option<u64>, s: Option<u64>, p: Option<u64>| match (k, s, p) {
        (Some(kernel), Some(stride), Some(padding)) => Some(Window {
            kernel,
            stride,
            padding,
        }),
        _ => None,
    };
    match seg.ident.to_string().as_str() {
        // Conv2D<IN, OUT, K, OH, OW, S = 1, P = 0, ...>
        "Conv2D" => Spatial::Sets {
            window: window(
                or_default(2, None),
                or_default(5, Some(1)),
                or_default(6, Some(0)),
            ),
            out: pair(3),
        },
        // MaxPool2D<K, OH, OW, S = K>
        "MaxPool2D" | "MaxPooling2D" | "AvgPool2D" | "AveragePooling2D" => {
            let k = or_default(0, None);
            Spatial::Sets {
                window: window(k, or_default(3, k), Some(0)),
                out: pair(1),
            }
        }
        "Flatten" => Spatial::Flattens(args.first().copied().flatten()),
        "BatchNormalization" | "LayerNormalization" | "Normalization" | "Linear" | "ReLU"
        | "Relu" | "Sigmoid" | "Tanh" | "Softmax" | "Gelu" | "GeLU" | "LeakyReLU" | "LeakyRelu"
        | "Elu" | "ELU" | "Softplus" | "Swish" | "SiLU" | "Silu" | "Dropout" => Spatial::Keeps,
        _ => Spatial::Clears,
    }
}

fn literal(arg: &syn::GenericArgument) -> Option<u64> {
    let expr = match arg {
        syn::GenericArgument::Const(e) => e,
        // `Dense<784, 256>`: integer literals parse as const arguments, but be lenient.
        _ => return None,
    };
    let expr = match expr {
        syn::Expr::Block(b) if b.block.stmts.len() == 1 => match &b.block.stmts[0] {
            syn::Stmt::Expr(e, None) => e,
            _ => return None,
        },
        e => e,
    };
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse().ok(),
        _ => None,
    }
}

/// The model's output width in features when the layer types tell it (the last width-setting
/// layer is a `Dense`, a `Flatten` or a global pooling, and nothing after it forgets it).
pub fn final_features<'a>(types: impl Iterator<Item = &'a syn::Type>) -> Option<u64> {
    let mut out: Option<(u64, Unit)> = None;
    for ty in types {
        out = match flow(ty) {
            Flow::Maps { output, .. } => output,
            Flow::Keeps(Some(c)) => out.map(|(_, unit)| (c, unit)),
            Flow::Keeps(None) | Flow::Unknown => None,
            Flow::ChannelsToFeatures => out.map(|(v, _)| (v, Unit::Features)),
            Flow::PassThrough => out,
        };
    }
    match out {
        Some((k, Unit::Features)) => Some(k),
        _ => None,
    }
}
