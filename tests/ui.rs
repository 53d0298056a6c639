//! Compile-time guarantees, checked with trybuild: each `tests/ui/*.rs` must fail to build
//! with exactly the message in its `.stderr` snapshot, and each `tests/ui/pass/*.rs` must build
//! and run.
//!
//! The pass cases are in the same run on purpose: with at least one pass case trybuild runs
//! `cargo build` instead of `cargo check`, and the metric checks that are `const` assertions
//! (`TopKCategoricalAccuracy<KK>` with `KK > K`, `MeanIoU<C>`, `OneHotIoU<C>`) only fail in a full
//! build (they are post-monomorphization errors; see dtolnay/trybuild#258).
//!
//! Regenerate the snapshots with `TRYBUILD=overwrite cargo test --test ui`, then read them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/*.rs");
}
