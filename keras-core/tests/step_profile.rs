//! `Trainer::set_step_profile` on [`TestDevice`](common::TestDevice): the profiled steps are
//! the ones asked for (after the warm-up steps it skips, up to as many as ran), every phase of
//! a step is timed on the host and on the device, with the loss on the host or on the device,
//! the times are sane (finite, not negative, no more than the run took), and profiling leaves
//! the training itself exactly as it was.

mod common;

use std::time::Instant;

use common::tiny::{data, trainer};
use keras_core::data::Shuffle;
use keras_core::state::{Phase, StepProfile};

/// Two epochs of the tiny classifier (40 samples in batches of 8: 10 steps), profiled with
/// `profile` (skip, steps) and the loss on the device or not; the profile, the History's losses
/// and the seconds `fit` took.
fn run(profile: Option<(usize, usize)>, loss_on_device: bool) -> (StepProfile, Vec<f32>, f64) {
    let mut t = trainer();
    t.set_loss_on_device(loss_on_device);
    if let Some((skip, steps)) = profile {
        t.set_step_profile(skip, steps).unwrap();
    }
    let start = Instant::now();
    let history = t
        .fit(&data(40))
        .epochs(2)
        .batch_size(8)
        .shuffle(Shuffle::None)
        .verbose(0)
        .run()
        .unwrap();
    let secs = start.elapsed().as_secs_f64();
    let profile = t.step_profile().unwrap();
    // Taken: profiling stopped, and a second read is empty.
    assert_eq!(t.step_profile().unwrap(), StepProfile::default());
    (profile, history.get("loss").unwrap().to_vec(), secs)
}

fn assert_sane(profile: &StepProfile, secs: f64) {
    for phase in Phase::TIMED {
        let t = profile
            .phase(phase)
            .unwrap_or_else(|| panic!("no `{}` in {profile}", phase.name()));
        for ms in [t.host_ms, t.device_ms] {
            assert!(ms.is_finite() && ms >= 0.0, "{profile}");
        }
    }
    let (host, device) = profile.step_ms();
    let total = 1e3 * secs / profile.steps as f64;
    assert!(
        host > 0.0 && host <= total && device <= total,
        "{profile}\nfit: {total} ms/step"
    );
}

#[test]
fn the_steps_after_the_warm_up_are_profiled_phase_by_phase() {
    for loss_on_device in [false, true] {
        let (profile, _, secs) = run(Some((3, 4)), loss_on_device);
        assert_eq!(profile.steps, 4);
        assert_sane(&profile, secs);
    }
}

#[test]
fn a_profile_holds_the_steps_that_ran_when_fewer_did_than_asked() {
    let (profile, _, secs) = run(Some((7, 100)), false);
    assert_eq!(profile.steps, 3);
    assert_sane(&profile, secs);
    let (none, _, _) = run(Some((100, 5)), false);
    assert_eq!(none.steps, 0);
    assert!(none.phases.is_empty());
}

#[test]
fn profiling_changes_nothing_the_model_learns() {
    let (_, plain, _) = run(None, false);
    let (_, profiled, _) = run(Some((0, 10)), false);
    assert_eq!(plain, profiled);
}
