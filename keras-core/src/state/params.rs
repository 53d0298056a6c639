//! A model's trainable parameters as flat host buffers: what optimizers and callbacks see.

/// One variable (a parameter tensor) inside [`FlatParams`].
///
/// # Examples
/// ```
/// use keras_core::state::FlatParams;
/// let params = FlatParams::from_layout([("kernel", &[2, 3][..]), ("bias", &[3][..])]);
/// let bias = params.find("bias").unwrap();
/// assert_eq!((bias.offset, bias.len, bias.range()), (6, 3, 6..9));
/// assert!(bias.has_grad);
/// ```
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
    /// Whether the step's gradient reached this variable. The trainer sets it to `false` when the
    /// backward pass produced no gradient for the tensor (it took no part in the forward pass);
    /// [`push_var`](FlatParams::push_var) starts it at `true`. An optimizer then either refuses
    /// the step ([`Error::MissingGradient`](crate::Error::MissingGradient), the default) or skips
    /// the variable as Keras does (see `with_allow_missing_gradients`).
    pub has_grad: bool,
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
/// `grads`, lets the optimizer update `values` in place, and scatters them back. A variable the
/// backward pass did not reach is marked with [`set_has_grad`](FlatParams::set_has_grad).
///
/// # Examples
/// ```
/// use keras_core::state::FlatParams;
/// let mut params = FlatParams::from_layout([("kernel", &[2, 2][..]), ("bias", &[2][..])]);
/// params.grad_mut(1).copy_from_slice(&[0.5, -0.5]);
/// params.set_has_grad(0, false);
/// assert_eq!(params.len(), 6);
/// assert_eq!(params.grads, [0.0, 0.0, 0.0, 0.0, 0.5, -0.5]);
/// assert_eq!(params.missing_grads().next().unwrap().name, "kernel");
/// ```
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
            has_grad: true,
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

    /// The values of variable `i`, mutably.
    pub fn var_mut(&mut self, i: usize) -> &mut [f32] {
        let range = self.vars[i].range();
        &mut self.values[range]
    }

    /// The gradient of variable `i`.
    pub fn grad(&self, i: usize) -> &[f32] {
        &self.grads[self.vars[i].range()]
    }

    /// The gradient of variable `i`, mutably.
    pub fn grad_mut(&mut self, i: usize) -> &mut [f32] {
        let range = self.vars[i].range();
        &mut self.grads[range]
    }

    /// The variable named `name`, if any.
    pub fn find(&self, name: &str) -> Option<&VarInfo> {
        self.vars.iter().find(|v| v.name == name)
    }

    /// The first variable holding a NaN or infinite value, with that value (one pass over the
    /// values, which vectorizes; the variable is looked for only when one is found).
    pub fn first_non_finite(&self) -> Option<(&str, f32)> {
        if crate::kernels::all_finite(&self.values) {
            return None;
        }
        let at = self.values.iter().position(|v| !v.is_finite())?;
        let var = self.vars.iter().find(|v| v.range().contains(&at))?;
        Some((var.name.as_str(), self.values[at]))
    }

    /// Marks whether variable `i` received a gradient this step (see [`VarInfo::has_grad`]).
    pub fn set_has_grad(&mut self, i: usize, has_grad: bool) {
        self.vars[i].has_grad = has_grad;
    }

    /// Marks every variable as having a gradient again (call before gathering a new step).
    pub fn reset_has_grad(&mut self) {
        for v in &mut self.vars {
            v.has_grad = true;
        }
    }

    /// The variables without a gradient this step.
    pub fn missing_grads(&self) -> impl Iterator<Item = &VarInfo> {
        self.vars.iter().filter(|v| !v.has_grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_var_lays_variables_out_back_to_back_with_gradients() {
        let mut p = FlatParams::from_layout([("w", &[2, 3][..]), ("b", &[3][..])]);
        assert_eq!(p.len(), 9);
        assert_eq!(p.vars[1].offset, 6);
        assert!(p.vars.iter().all(|v| v.has_grad));
        p.var_mut(1).copy_from_slice(&[1.0, 2.0, 3.0]);
        p.grad_mut(0)[0] = 5.0;
        assert_eq!(p.var(1), &[1.0, 2.0, 3.0]);
        assert_eq!(p.grad(0)[0], 5.0);
        assert_eq!(p.find("b").map(|v| v.len), Some(3));
    }

    #[test]
    fn missing_gradients_are_listed_until_reset() {
        let mut p = FlatParams::from_layout([("w", &[2][..]), ("b", &[1][..])]);
        p.set_has_grad(1, false);
        let names: Vec<_> = p.missing_grads().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["b"]);
        p.reset_has_grad();
        assert_eq!(p.missing_grads().count(), 0);
    }
}
