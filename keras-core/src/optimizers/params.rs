//! A model's trainable parameters as flat host buffers: what optimizers and callbacks see.

/// One variable (a parameter tensor) inside [`FlatParams`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarInfo {
    /// Path of the parameter in the model, e.g. `hidden.kernel`.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Offset of its first value in [`FlatParams::values`] / [`FlatParams::grads`].
    pub offset: usize,
    /// Number of values.
    pub len: usize,
}

impl VarInfo {
    /// The range of this variable in the flat buffers.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len
    }
}

/// All trainable parameters of a model, concatenated in visiting order, with their gradients.
///
/// The trainer gathers the model's tensors into `values` and the gradients of a step into
/// `grads`, lets the optimizer update `values` in place, and scatters them back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlatParams {
    /// Parameter values, variable after variable.
    pub values: Vec<f32>,
    /// Gradients, same layout as `values`.
    pub grads: Vec<f32>,
    /// The variables, in order.
    pub vars: Vec<VarInfo>,
}

impl FlatParams {
    /// Builds a layout from `(name, shape)` pairs, with zero values and gradients.
    pub fn from_layout<'a>(vars: impl IntoIterator<Item = (&'a str, &'a [usize])>) -> Self {
        let mut out = FlatParams::default();
        for (name, shape) in vars {
            out.push_var(name, shape);
        }
        out
    }

    /// Appends a variable of the given shape (zero-filled) and returns its info.
    pub fn push_var(&mut self, name: &str, shape: &[usize]) -> &VarInfo {
        let len = shape.iter().product();
        let offset = self.values.len();
        self.values.resize(offset + len, 0.0);
        self.grads.resize(offset + len, 0.0);
        self.vars.push(VarInfo {
            name: name.to_string(),
            shape: shape.to_vec(),
            offset,
            len,
        });
        &self.vars[self.vars.len() - 1]
    }

    /// Total number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// `true` when there is no parameter.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The values of variable `i`.
    pub fn var(&self, i: usize) -> &[f32] {
        &self.values[self.vars[i].range()]
    }

    /// The variable named `name`, if any.
    pub fn find(&self, name: &str) -> Option<&VarInfo> {
        self.vars.iter().find(|v| v.name == name)
    }
}
