//! Keras's `model.summary()`: the table of layers (name and class, output shape, parameter
//! count) and the totals, drawn as Keras 3 draws it.

use dfdx::nn::tensor_collection::TensorCollection;

use crate::device::KerasDevice;
use crate::layers::keras_names::layer_groups;
use crate::layers::{KerasLayerSpec, KerasLayers};
use crate::state::FlatParams;
use crate::{Error, Result};

/// Keras's `model.summary()` of `model` (as a `Sequential` named `"sequential"`): one row per
/// Keras layer (name and class, output shape, parameter count) and the trainable and
/// non-trainable totals, drawn as Keras 3 draws them. The first layer's type must fix the input
/// shape (a `Dense`, a `Conv2D`, ...).
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::{BatchNormalization, Dense, ReLU};
///
/// let dev = Cpu::default();
/// let model = dev.build_module::<(Dense<4, 8, ReLU>, BatchNormalization<8>, Dense<8, 1>), f32>();
/// let table = keras_core::model::summary(&model)?;
/// assert!(table.contains("│ dense (Dense)                   │ (None, 8)              │            40 │"));
/// assert!(table.ends_with(" Non-trainable params: 16 (64.00 B)\n"));
/// # Ok::<(), keras_core::Error>(())
/// ```
pub fn summary<M, D>(model: &M) -> Result<String>
where
    M: KerasLayers + TensorCollection<f32, D>,
    D: KerasDevice,
{
    let trainable = super::layout(model)?;
    let non_trainable = super::non_trainable_layout(model)?;
    summary_of(model, &trainable, &non_trainable, None)
}

/// [`summary`] from the model's variable layouts, with the optimizer's variable count when it
/// has built its state.
pub(crate) fn summary_of<M: KerasLayers>(
    model: &M,
    trainable: &FlatParams,
    non_trainable: &FlatParams,
    optimizer_params: Option<usize>,
) -> Result<String> {
    let mut layers = Vec::new();
    model.keras_layers("", &mut layers)?;
    let input = layers
        .first()
        .and_then(|l| l.input_shape.clone())
        .ok_or_else(|| {
            Error::invalid(
                "summary",
                "the model's input shape does not follow from its first layer's type",
            )
        })?;
    Ok(summary_table(
        "sequential",
        &layers,
        &input,
        trainable,
        non_trainable,
        optimizer_params,
    ))
}

/// Column widths of Keras's default table (`line_length` 98 less the borders).
const WIDTHS: [usize; 3] = [33, 24, 15];

/// Keras's `readable_memory_size`: `324.00 B`, `1.42 KB`, ...
fn readable_size(bytes: f64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut size = bytes;
    for unit in units {
        if size < 1024.0 {
            return format!("{size:.2} {unit}");
        }
        size /= 1024.0;
    }
    format!("{size:.2} EB")
}

/// `(None, 4, 4, 4)`.
fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = std::iter::once("None".to_string())
        .chain(shape.iter().map(|d| d.to_string()))
        .collect();
    if dims.len() == 1 {
        "(None,)".to_string()
    } else {
        format!("({})", dims.join(", "))
    }
}

/// Splits `text` into lines of at most `width` characters at spaces (as rich wraps a cell).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let fits = line.is_empty() || line.chars().count() + 1 + word.chars().count() <= width;
        if !fits {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

fn rule(left: char, mid: char, right: char, fill: char) -> String {
    let parts: Vec<String> = WIDTHS.iter().map(|&w| fill.to_string().repeat(w)).collect();
    format!("{left}{}{right}", parts.join(&mid.to_string()))
}

/// One table row (cells wrapped; the last column right-aligned).
fn row(cells: [&str; 3], bar: char) -> Vec<String> {
    let wrapped: Vec<Vec<String>> = cells
        .iter()
        .zip(WIDTHS)
        .map(|(c, w)| wrap(c, w - 2))
        .collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
    (0..height)
        .map(|k| {
            let mut out = String::new();
            out.push(bar);
            for (col, (lines, w)) in wrapped.iter().zip(WIDTHS).enumerate() {
                let text = lines.get(k).map(String::as_str).unwrap_or("");
                let pad = (w - 2).saturating_sub(text.chars().count());
                if col == 2 {
                    out.push_str(&format!(" {}{text} ", " ".repeat(pad)));
                } else {
                    out.push_str(&format!(" {text}{} ", " ".repeat(pad)));
                }
                out.push(bar);
            }
            out
        })
        .collect()
}

/// The summary table of a model made of `layers` whose first takes samples of `input` shape,
/// with its trainable and non-trainable variables, and the optimizer's variable count when
/// it has built its state.
fn summary_table(
    name: &str,
    layers: &[KerasLayerSpec],
    input: &[usize],
    trainable: &FlatParams,
    non_trainable: &FlatParams,
    optimizer_params: Option<usize>,
) -> String {
    let mut lines = vec![format!("Model: \"{name}\"")];
    lines.push(rule('┏', '┳', '┓', '━'));
    lines.extend(row(["Layer (type)", "Output Shape", "Param #"], '┃'));
    lines.push(rule('┡', '╇', '┩', '━'));
    let mut shape = input.to_vec();
    let groups = layer_groups(layers);
    for (i, (layer, group)) in layers.iter().zip(&groups).enumerate() {
        shape = layer.output.of(&shape);
        let params: usize = (0..layer.variables.len())
            .filter_map(|v| {
                let name = layer.variable_path(v);
                trainable
                    .find(&name)
                    .or_else(|| non_trainable.find(&name))
                    .map(|info| info.len)
            })
            .sum::<usize>()
            // Keras's own scalar variables (Normalization's `count`), non-trainable.
            + layer.keras_only.len();
        let label = format!(
            "{} ({})",
            group.trim_start_matches("layers/"),
            layer.class_name
        );
        lines.extend(row([&label, &shape_text(&shape), &params.to_string()], '│'));
        if i + 1 < layers.len() {
            lines.push(rule('├', '┼', '┤', '─'));
        }
    }
    lines.push(rule('└', '┴', '┘', '─'));
    let keras_only: usize = layers.iter().map(|l| l.keras_only.len()).sum();
    let (t, n) = (
        trainable.values.len(),
        non_trainable.values.len() + keras_only,
    );
    let o = optimizer_params.unwrap_or(0);
    let total = t + n + o;
    let bytes = |count: usize| readable_size(count as f64 * 4.0);
    lines.push(format!(" Total params: {total} ({})", bytes(total)));
    lines.push(format!(" Trainable params: {t} ({})", bytes(t)));
    lines.push(format!(" Non-trainable params: {n} ({})", bytes(n)));
    if let Some(o) = optimizer_params {
        lines.push(format!(" Optimizer params: {o} ({})", bytes(o)));
    }
    lines.join("\n") + "\n"
}
