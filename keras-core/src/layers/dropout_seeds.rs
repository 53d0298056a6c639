//! The seeds of a training step's dropout masks, from the step's place in training.
//!
//! dfdx draws a mask's seed from the device's generator, whose state is private, so a run
//! resumed from a backup would draw other masks than the uninterrupted run. The trainer instead
//! gives each training step a key (its seed, epoch and batch: what a resume point restores) for
//! the span of the step's forward pass; each [`Dropout`](super::Dropout) call in the step takes
//! the next seed of that key. Outside a trainer's step (a hand-written loop), dropout keeps
//! dfdx's generator.

use std::cell::Cell;

thread_local! {
    /// The current step's key and how many masks it has drawn.
    static STEP: Cell<Option<(u64, u64)>> = const { Cell::new(None) };
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The key of the training step at `batch` of `epoch` in a run seeded `seed`.
pub(crate) fn step_key(seed: u64, epoch: u64, batch: u64) -> u64 {
    mix(mix(mix(seed ^ 0x64_726F_706F_7574) ^ epoch) ^ batch)
}

/// Keeps a step's key current until dropped (the previous one, if any, comes back).
pub(crate) struct StepSeeds {
    previous: Option<(u64, u64)>,
}

/// Makes `key` the current step's key.
pub(crate) fn for_step(key: u64) -> StepSeeds {
    StepSeeds {
        previous: STEP.with(|s| s.replace(Some((key, 0)))),
    }
}

impl Drop for StepSeeds {
    fn drop(&mut self) {
        STEP.with(|s| s.set(self.previous));
    }
}

/// The seed of the next dropout mask of the current step, or `None` outside a trainer's step.
pub(crate) fn next_seed() -> Option<u64> {
    STEP.with(|s| {
        let (key, drawn) = s.get()?;
        s.set(Some((key, drawn + 1)));
        Some(mix(key ^ mix(drawn)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_repeats_its_seeds_and_other_steps_differ() {
        assert_eq!(next_seed(), None);
        let draw = |key| {
            let _step = for_step(key);
            [next_seed().unwrap(), next_seed().unwrap()]
        };
        let a = draw(step_key(11, 2, 5));
        assert_eq!(a, draw(step_key(11, 2, 5)));
        assert_ne!(a[0], a[1]);
        assert_ne!(a, draw(step_key(11, 2, 6)));
        assert_ne!(a, draw(step_key(11, 3, 5)));
        assert_ne!(a, draw(step_key(12, 2, 5)));
        assert_eq!(
            next_seed(),
            None,
            "the guard restores the state before the step"
        );
    }
}
