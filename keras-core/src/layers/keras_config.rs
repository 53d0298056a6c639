//! Each layer as Keras's own files describe it: its class, its configuration (`config.json`) and
//! its variables in Keras's order (`model.weights.h5`'s `vars/0`, `vars/1`, ...).
//!
//! [`KerasLayers`] is implemented for every layer of this module, for tuples of layers, and by
//! `#[derive(Sequential)]` / `#[derive(Model)]` for models (fields in declaration order, nested
//! models flattened). [`crate::persist::keras`] reads and writes the files from these
//! descriptions.

use dfdx::shapes::Dtype;
use dfdx::tensor::Storage;
use serde_json::{json, Map, Value};

use super::{
    AvgPool2D, BatchNormalization, Conv2D, Dense, Dropout, Elu, Embedding, Flatten, Gelu,
    GlobalAveragePooling1D, GlobalAveragePooling2D, LayerNormalization, LeakyReLU, Linear,
    MaxPool2D, Normalization, ReLU, Sigmoid, Softmax, Softplus, Swish, Tanh,
};
use crate::{Error, Result};

/// One Keras layer of a model: what `config.json` and `model.weights.h5` say about it.
#[derive(Debug, Clone, PartialEq)]
pub struct KerasLayerSpec {
    /// Keras's class name (`"Dense"`, `"BatchNormalization"`, ...).
    pub class_name: &'static str,
    /// The class's own configuration keys (`units`, `activation`, ...), without the `name`,
    /// `trainable` and `dtype` every layer has.
    pub config: Map<String, Value>,
    /// The layer's field path in the model (`"hidden"`, `"0"`, `"block.dense"`); its tensors
    /// are named `<path>.<variable>` in the model's parameters.
    pub path: String,
    /// The layer's tensors by their field names, in Keras's variable order (`vars/0`, `vars/1`,
    /// ...), trainable and non-trainable together as Keras stores them.
    pub variables: Vec<&'static str>,
    /// Variables Keras keeps after [`variables`](Self::variables) that the model holds no
    /// tensor for (Normalization's integer `count`): scalar integers, written as `0` and
    /// skipped when a file is read.
    pub keras_only: Vec<&'static str>,
    /// The per-sample input shape the layer expects, when its type fixes it (`Dense<I, O>`:
    /// `[I]`); the first layer's gives the model's input shape.
    pub input_shape: Option<Vec<usize>>,
    /// How the layer's per-sample output shape follows from its input's.
    pub output: OutputShape,
}

/// How a layer's per-sample output shape follows from its input shape (for `summary()`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputShape {
    /// The input's shape (normalisations, activations, dropout).
    Same,
    /// The input's shape with the last axis replaced (`Dense`).
    Last(usize),
    /// A shape the layer's type fixes (`Conv2D`: `[OH, OW, filters]`; `Flatten<N>`: `[N]`).
    Fixed(Vec<usize>),
    /// `[OH, OW]` and the input's channels (pooling).
    Spatial(usize, usize),
    /// The input's last axis alone (`GlobalAveragePooling1D`, `GlobalAveragePooling2D`).
    Channels,
    /// The input's shape with one more axis (`Embedding`: `[steps, output_dim]`).
    Append(usize),
}

impl OutputShape {
    /// The output shape for samples of shape `input`.
    pub fn of(&self, input: &[usize]) -> Vec<usize> {
        let last = input.last().copied().unwrap_or(1);
        match self {
            OutputShape::Same => input.to_vec(),
            OutputShape::Last(n) => {
                let mut out = input.to_vec();
                match out.last_mut() {
                    Some(l) => *l = *n,
                    None => out.push(*n),
                }
                out
            }
            OutputShape::Fixed(shape) => shape.clone(),
            OutputShape::Spatial(h, w) => vec![*h, *w, last],
            OutputShape::Channels => vec![last],
            OutputShape::Append(n) => input.iter().copied().chain([*n]).collect(),
        }
    }
}

impl KerasLayerSpec {
    fn new(class_name: &'static str, path: &str) -> Self {
        Self {
            class_name,
            config: Map::new(),
            path: path.to_string(),
            variables: Vec::new(),
            keras_only: Vec::new(),
            input_shape: None,
            output: OutputShape::Same,
        }
    }

    fn with_output(mut self, output: OutputShape) -> Self {
        self.output = output;
        self
    }

    fn with(mut self, key: &str, value: Value) -> Self {
        self.config.insert(key.to_string(), value);
        self
    }

    fn with_variables(mut self, variables: &[&'static str]) -> Self {
        self.variables = variables.to_vec();
        self
    }

    fn with_keras_only(mut self, variables: &[&'static str]) -> Self {
        self.keras_only = variables.to_vec();
        self
    }

    fn with_input(mut self, shape: Vec<usize>) -> Self {
        self.input_shape = Some(shape);
        self
    }

    /// The model parameter name of variable `i` (`<path>.<variable>`).
    pub fn variable_path(&self, i: usize) -> String {
        if self.path.is_empty() {
            self.variables[i].to_string()
        } else {
            format!("{}.{}", self.path, self.variables[i])
        }
    }
}

/// A module's Keras layers, in order: what Keras's `.keras` and `.weights.h5` files hold of it.
///
/// `path` is the module's field path in the model (empty for the model itself); an
/// implementation appends one [`KerasLayerSpec`] per Keras layer, or nothing for a module Keras
/// has no layer for. A layer whose configuration Keras cannot express (a `Conv2D` padding other
/// than `"valid"` or `"same"`) is an [`Error::InvalidArgument`] naming it.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::{BatchNormalization, Dense, KerasLayers, ReLU};
///
/// let dev = Cpu::default();
/// let model = dev.build_module::<(Dense<4, 8, ReLU>, BatchNormalization<8>, Dense<8, 1>), f32>();
/// let mut layers = Vec::new();
/// model.keras_layers("", &mut layers)?;
/// let classes: Vec<_> = layers.iter().map(|l| l.class_name).collect();
/// assert_eq!(classes, ["Dense", "BatchNormalization", "Dense"]);
/// assert_eq!(layers[0].config["activation"], "relu");
/// assert_eq!(layers[1].variable_path(2), "1.moving_mean");
/// assert_eq!(layers[0].input_shape, Some(vec![4]));
/// # Ok::<(), keras_core::Error>(())
/// ```
pub trait KerasLayers {
    /// Whether the layers run one after the other, so that a Keras `Sequential` of them is this
    /// module (`false` for `#[derive(Model)]` models, whose forward pass is written by hand:
    /// their weights move through `.weights.h5` files, but no `config.json` describes them).
    const SEQUENTIAL: bool = true;

    /// Appends this module's Keras layers, with `path` as its field path.
    fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()>;
}

/// The field path of member `name` of the module at `path` (what derived models pass their
/// fields).
pub fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// An activation's name in Keras (`"relu"`), as `Dense`'s and `Conv2D`'s `activation` argument
/// and the `Activation` layer take it.
pub trait KerasActivation {
    /// Keras's name for the activation.
    const KERAS_NAME: &'static str;
}

macro_rules! activation_names {
    ($($ty:ty => $name:literal),* $(,)?) => {$(
        impl KerasActivation for $ty {
            const KERAS_NAME: &'static str = $name;
        }

        impl KerasLayers for $ty {
            fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()> {
                if $name != "linear" {
                    out.push(KerasLayerSpec::new("Activation", path).with("activation", json!($name)));
                }
                Ok(())
            }
        }
    )*};
}

activation_names!(
    Linear => "linear",
    ReLU => "relu",
    Sigmoid => "sigmoid",
    Tanh => "tanh",
    Softmax => "softmax",
    Gelu => "gelu",
    Softplus => "softplus",
    Swish => "silu",
);

impl<const I: usize, const O: usize, A: KerasActivation, E: Dtype, D: Storage<E>> KerasLayers
    for Dense<I, O, A, E, D>
{
    fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()> {
        out.push(
            KerasLayerSpec::new("Dense", path)
                .with("units", json!(O))
                .with("activation", json!(A::KERAS_NAME))
                .with("use_bias", json!(true))
                .with_variables(&["kernel", "bias"])
                .with_input(vec![I])
                .with_output(OutputShape::Last(O)),
        );
        Ok(())
    }
}

impl<
        const IN: usize,
        const OUT: usize,
        const K: usize,
        const OH: usize,
        const OW: usize,
        const S: usize,
        const P: usize,
        A: KerasActivation,
        E: Dtype,
        D: Storage<E>,
    > KerasLayers for Conv2D<IN, OUT, K, OH, OW, S, P, A, E, D>
{
    fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()> {
        let padding = if P == 0 {
            "valid"
        } else if S == 1 && 2 * P + 1 == K {
            "same"
        } else {
            return Err(Error::invalid(
                "Conv2D",
                format!(
                    "layer `{path}` pads by {P} with a {K}x{K} kernel and stride {S}, which Keras's \
                     padding=\"valid\" or \"same\" cannot express"
                ),
            ));
        };
        let (h, w) = ((OH - 1) * S + K - 2 * P, (OW - 1) * S + K - 2 * P);
        out.push(
            KerasLayerSpec::new("Conv2D", path)
                .with("filters", json!(OUT))
                .with("kernel_size", json!([K, K]))
                .with("strides", json!([S, S]))
                .with("padding", json!(padding))
                .with("data_format", json!("channels_last"))
                .with("dilation_rate", json!([1, 1]))
                .with("groups", json!(1))
                .with("activation", json!(A::KERAS_NAME))
                .with("use_bias", json!(true))
                .with_variables(&["kernel", "bias"])
                .with_input(vec![h, w, IN])
                .with_output(OutputShape::Fixed(vec![OH, OW, OUT])),
        );
        Ok(())
    }
}

impl<const C: usize, E: Dtype, D: Storage<E>> KerasLayers for BatchNormalization<C, E, D> {
    fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()> {
        out.push(
            KerasLayerSpec::new("BatchNormalization", path)
                .with("axis", json!(-1))
                .with("momentum", json!(self.momentum))
                .with("epsilon", json!(self.epsilon))
                .with("center", json!(true))
                .with("scale", json!(true))
                .with_variables(&["gamma", "beta", "moving_mean", "moving_variance"]),
        );
        Ok(())
    }
}

impl<const M: usize, E: Dtype, D: Storage<E>> KerasLayers for LayerNormalization<M, E, D> {
    fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()> {
        out.push(
            KerasLayerSpec::new("LayerNormalization", path)
                .with("axis", json!(-1))
                .with("epsilon", json!(self.epsilon))
                .with("center", json!(true))
                .with("scale", json!(true))
                .with_variables(&["gamma", "beta"])
                .with_input(vec![M]),
        );
        Ok(())
    }
}

/// Keras's adapted `Normalization` (statistics in the variables, `mean`/`variance` arguments
/// `null`): `mean`, `variance` and Keras's integer `count`, which this layer does not keep. As
/// a model's first layer it takes rows of `C` features.
impl<const C: usize, E: Dtype, D: Storage<E>, const INVERT: bool> KerasLayers
    for Normalization<C, E, D, INVERT>
{
    fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()> {
        out.push(
            KerasLayerSpec::new("Normalization", path)
                .with("axis", json!([-1]))
                .with("invert", json!(INVERT))
                .with("mean", Value::Null)
                .with("variance", Value::Null)
                .with_variables(&["mean", "variance"])
                .with_keras_only(&["count"])
                .with_input(vec![C]),
        );
        Ok(())
    }
}

impl<const V: usize, const M: usize, E: Dtype, D: Storage<E>> KerasLayers
    for Embedding<V, M, E, D>
{
    fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()> {
        out.push(
            KerasLayerSpec::new("Embedding", path)
                .with("input_dim", json!(V))
                .with("output_dim", json!(M))
                .with_variables(&["embeddings"])
                .with_output(OutputShape::Append(M)),
        );
        Ok(())
    }
}

impl KerasLayers for Dropout {
    fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()> {
        out.push(KerasLayerSpec::new("Dropout", path).with("rate", json!(self.rate)));
        Ok(())
    }
}

impl KerasLayers for Elu {
    fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()> {
        out.push(KerasLayerSpec::new("ELU", path).with("alpha", json!(self.alpha)));
        Ok(())
    }
}

impl KerasLayers for LeakyReLU {
    fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()> {
        out.push(
            KerasLayerSpec::new("LeakyReLU", path)
                .with("negative_slope", json!(self.negative_slope)),
        );
        Ok(())
    }
}

impl<const N: usize> KerasLayers for Flatten<N> {
    fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()> {
        out.push(
            KerasLayerSpec::new("Flatten", path)
                .with("data_format", json!("channels_last"))
                .with_output(OutputShape::Fixed(vec![N])),
        );
        Ok(())
    }
}

/// A pooling layer's configuration (`pool_size`, `strides`, `"valid"` padding).
fn pooling(
    class_name: &'static str,
    path: &str,
    (k, s): (usize, usize),
    (oh, ow): (usize, usize),
) -> KerasLayerSpec {
    KerasLayerSpec::new(class_name, path)
        .with_output(OutputShape::Spatial(oh, ow))
        .with("pool_size", json!([k, k]))
        .with("strides", json!([s, s]))
        .with("padding", json!("valid"))
        .with("data_format", json!("channels_last"))
}

impl<const K: usize, const OH: usize, const OW: usize, const S: usize> KerasLayers
    for MaxPool2D<K, OH, OW, S>
{
    fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()> {
        out.push(pooling("MaxPooling2D", path, (K, S), (OH, OW)));
        Ok(())
    }
}

impl<const K: usize, const OH: usize, const OW: usize, const S: usize> KerasLayers
    for AvgPool2D<K, OH, OW, S>
{
    fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()> {
        out.push(pooling("AveragePooling2D", path, (K, S), (OH, OW)));
        Ok(())
    }
}

impl KerasLayers for GlobalAveragePooling1D {
    fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()> {
        out.push(
            KerasLayerSpec::new("GlobalAveragePooling1D", path)
                .with("data_format", json!("channels_last"))
                .with("keepdims", json!(false))
                .with_output(OutputShape::Channels),
        );
        Ok(())
    }
}

impl KerasLayers for GlobalAveragePooling2D {
    fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()> {
        out.push(
            KerasLayerSpec::new("GlobalAveragePooling2D", path)
                .with("data_format", json!("channels_last"))
                .with("keepdims", json!(false))
                .with_output(OutputShape::Channels),
        );
        Ok(())
    }
}

macro_rules! tuple_layers {
    ($($ty:ident $idx:tt),+) => {
        impl<$($ty: KerasLayers),+> KerasLayers for ($($ty,)+) {
            const SEQUENTIAL: bool = true $(&& $ty::SEQUENTIAL)+;

            fn keras_layers(&self, path: &str, out: &mut Vec<KerasLayerSpec>) -> Result<()> {
                $(self.$idx.keras_layers(&join_path(path, stringify!($idx)), out)?;)+
                Ok(())
            }
        }
    };
}

tuple_layers!(A 0);
tuple_layers!(A 0, B 1);
tuple_layers!(A 0, B 1, C 2);
tuple_layers!(A 0, B 1, C 2, Dd 3);
tuple_layers!(A 0, B 1, C 2, Dd 3, Ee 4);
tuple_layers!(A 0, B 1, C 2, Dd 3, Ee 4, F 5);
