//! The element types layers are generic over.

/// A floating-point dtype that layers can be built with: dfdx's `Dtype`, `num_traits::Float`
/// and uniform sampling for initialisers. Implemented for `f32` and `f64`.
pub trait Element:
    dfdx::shapes::Dtype + num_traits::Float + rand_distr::uniform::SampleUniform
{
}

impl<T: dfdx::shapes::Dtype + num_traits::Float + rand_distr::uniform::SampleUniform> Element
    for T
{
}
