//! Layers with Keras semantics over dfdx tensors.
