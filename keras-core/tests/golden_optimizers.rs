//! Every case of `optimizers.json`: variables (and EMA, learning rate, iterations) after each
//! of 6 `apply_gradients` calls of Keras's optimizers, base options included. Each case runs on
//! the flat host buffers (`Optimizer::apply`) and, where the optimizer's options allow, again
//! resident on [`TestDevice`](common::TestDevice) (`Optimizer::apply_resident`: the device's
//! update kernels, the CUDA ones under the `cuda` feature), against the same Keras numbers.

mod common;

use std::cell::Cell;

use common::keras_config::{base_options, schedule_from, Cfg};
use common::{
    close, compare, load, load_cases, test_device, Case, Report, TestDevice, DEVICE_TOL_FACTOR,
};
use keras_core::device::{Buffer, KerasDevice};
use keras_core::optimizers::schedules::LearningRateSchedule;
use keras_core::optimizers::{
    Adadelta, Adafactor, Adagrad, Adam, AdamW, Adamax, DeviceState, FlatParams, Ftrl,
    KerasOptimizer, Lamb, Lion, Nadam, Optimizer, OptimizerBuilder, RMSprop, ResidentVars, Sgd,
    UpdateRule,
};

/// Where a case's steps run.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Path {
    /// `Optimizer::apply` on flat host buffers.
    Host,
    /// `Optimizer::apply_resident` on buffers of the test device.
    Resident,
}

/// The case's variables as a model on the test device holds them: one value and one gradient
/// buffer per variable.
struct DeviceVars {
    dev: TestDevice,
    values: Vec<Buffer<TestDevice>>,
    grads: Vec<Buffer<TestDevice>>,
}

impl ResidentVars<TestDevice> for DeviceVars {
    fn device(&self) -> &TestDevice {
        &self.dev
    }

    fn for_each_var<F>(&mut self, mut f: F) -> keras_core::Result<()>
    where
        F: FnMut(
            &TestDevice,
            usize,
            &mut Buffer<TestDevice>,
            &mut Buffer<TestDevice>,
        ) -> keras_core::Result<()>,
    {
        for (i, (v, g)) in self.values.iter_mut().zip(&mut self.grads).enumerate() {
            f(&self.dev, i, v, g)?;
        }
        Ok(())
    }
}

thread_local! {
    /// How many cases ran resident, and how many the config says should.
    static RESIDENT: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// Whether the case's optimizer and options run resident: every rule (Lamb and Adafactor in a
/// few passes) with every option (weight decay, clipping, accumulation, EMA and a loss scale run
/// on the device too) but a loss scale with a norm clip.
fn runs_resident(c: &Cfg) -> bool {
    let norm_clip = ["clipnorm", "global_clipnorm"]
        .iter()
        .any(|k| c.get(k).as_f64().is_some());
    c.get("loss_scale_factor").as_f64().is_none() || !norm_clip
}

/// Sets the learning rate (a number or a schedule object), builds and runs the case on the
/// host, then resident where its options allow.
fn run<U: UpdateRule + Clone>(
    builder: OptimizerBuilder<U>,
    c: &Cfg,
    case: &Case,
) -> Result<(), String> {
    let expect_resident = runs_resident(c);
    let builder = base_options(builder, c);
    let num_steps = c.u64("num_steps") as usize;
    let lr = c.get("learning_rate");
    c.check_all_used("config")?;
    let ran_resident = if let Some(lr) = lr.as_f64() {
        let opt = builder
            .with_learning_rate(lr as f32)
            .build()
            .map_err(|e| e.to_string())?;
        let host = simulate(opt.clone(), num_steps, case, Path::Host)?;
        (host, simulate(opt, num_steps, case, Path::Resident)?)
    } else {
        let s = schedule_from(&Cfg::new(lr), "schedule")?;
        let opt = builder
            .with_schedule(s)
            .build()
            .map_err(|e| e.to_string())?;
        let host = simulate(opt.clone(), num_steps, case, Path::Host)?;
        (host, simulate(opt, num_steps, case, Path::Resident)?)
    };
    let (Some(host), resident) = ran_resident else {
        return Err("the host run returned no state".into());
    };
    if let Some(resident) = &resident {
        // The slots kept on the device, synced back, are the host run's.
        for ((name, h), (rname, r)) in host.iter().zip(resident) {
            if name != rname {
                return Err(format!("state entry `{rname}` where the host has `{name}`"));
            }
            let tol = 1e-5 * DEVICE_TOL_FACTOR;
            let same =
                r.len() == h.len() && r.iter().zip(h).all(|(&r, &h)| close(r, f64::from(h), tol));
            if !same {
                return Err(format!(
                    "resident state `{name}`: {r:?} where the host has {h:?}"
                ));
            }
        }
        if host.len() != resident.len() {
            return Err("the resident state has other entries than the host's".into());
        }
    }
    let ran_resident = resident.is_some();
    RESIDENT.with(|r| {
        let (ran, expected) = r.get();
        r.set((
            ran + usize::from(ran_resident),
            expected + usize::from(expect_resident),
        ));
    });
    if ran_resident != expect_resident {
        return Err(format!(
            "ran resident: {ran_resident}, but its options say {expect_resident}"
        ));
    }
    Ok(())
}

/// The optimizer's state after a run.
type State = Vec<(String, Vec<f32>)>;

/// Keras's loop on `path`: read the learning rate, apply one step, record everything. Returns
/// the optimizer's state at the end, or `None` when the steps did not run (`Resident` declines,
/// changing nothing, where the options need the host path).
fn simulate<U: UpdateRule, S: LearningRateSchedule>(
    mut opt: KerasOptimizer<U, S>,
    num_steps: usize,
    case: &Case,
    path: Path,
) -> Result<Option<State>, String> {
    // The variables' shapes are the case's (the public file uses [3, 4] and [4]).
    let (shape0, shape1) = (
        case.inputs["var0_init"].shape.clone(),
        case.inputs["var1_init"].shape.clone(),
    );
    let (n0, n1) = (
        shape0.iter().product::<usize>(),
        shape1.iter().product::<usize>(),
    );
    let mut params = FlatParams::from_layout([("var0", &shape0[..]), ("var1", &shape1[..])]);
    params
        .var_mut(0)
        .copy_from_slice(&case.inputs["var0_init"].f32());
    params
        .var_mut(1)
        .copy_from_slice(&case.inputs["var1_init"].f32());
    let (grad0, grad1) = (case.inputs["grad0"].f32(), case.inputs["grad1"].f32());
    let mut got: [Vec<f32>; 6] = Default::default();
    let [var0, var1, ema0, ema1, lrs, iterations] = &mut got;
    let dev = test_device(0);
    let upload = |v: &[f32]| dev.try_upload(v).map_err(|e| format!("{e:?}"));
    let mut vars = DeviceVars {
        values: vec![upload(params.var(0))?, upload(params.var(1))?],
        grads: Vec::new(),
        dev: dev.clone(),
    };
    let mut state = DeviceState::<TestDevice>::default();
    for t in 0..num_steps {
        lrs.push(opt.learning_rate());
        let (g0, g1) = (
            grad0
                .get(t * n0..(t + 1) * n0)
                .ok_or("grad0 has too few steps")?,
            grad1
                .get(t * n1..(t + 1) * n1)
                .ok_or("grad1 has too few steps")?,
        );
        params.grads[..n0].copy_from_slice(g0);
        params.grads[n0..].copy_from_slice(g1);
        match path {
            Path::Host => opt
                .apply(&mut params)
                .map_err(|e| format!("step {t}: {e}"))?,
            Path::Resident => {
                vars.grads = vec![upload(&params.grads[..n0])?, upload(&params.grads[n0..])?];
                let ran = opt
                    .apply_resident(&params, &mut vars, &mut state)
                    .map_err(|e| format!("resident step {t}: {e}"))?;
                if !ran {
                    assert_eq!(t, 0, "a resident run declines from its first step");
                    return Ok(None);
                }
                for (i, value) in vars.values.iter().enumerate() {
                    dev.try_download(value, params.var_mut(i))
                        .map_err(|e| format!("{e:?}"))?;
                }
                if case.expected.contains_key("ema0") {
                    // The averages live on the device: read them back (the next step uploads
                    // them again), as a callback reading the optimizer's state does.
                    opt.sync_resident(&mut state, &dev)
                        .map_err(|e| format!("sync: {e}"))?;
                }
                let mut zeroed = vec![1.0; n0];
                dev.try_download(&vars.grads[0], &mut zeroed)
                    .map_err(|e| format!("{e:?}"))?;
                if zeroed.iter().any(|g| *g != 0.0) {
                    return Err(format!("resident step {t} left a gradient unzeroed"));
                }
            }
        }
        var0.extend_from_slice(params.var(0));
        var1.extend_from_slice(params.var(1));
        iterations.push(opt.iterations() as f32);
        if let Some(ema) = opt.moving_average() {
            ema0.extend_from_slice(&ema[..n0]);
            ema1.extend_from_slice(&ema[n0..]);
        }
    }
    // On CUDA the resident kernels' `sqrt`, division and `powf` may round differently.
    let tol = if path == Path::Resident {
        1e-5 * DEVICE_TOL_FACTOR
    } else {
        1e-5
    };
    let fields = [
        ("var0", var0, tol),
        ("var1", var1, tol),
        ("ema0", ema0, 1e-5),
        ("ema1", ema1, 1e-5),
        ("learning_rate", lrs, 1e-5),
        ("iterations", iterations, 1e-5),
    ];
    let mut checked = 0;
    for (name, values, tol) in fields {
        match case.expected.get(name) {
            Some(expected) => {
                compare(values, expected, tol).map_err(|e| format!("{name}: {e}"))?;
                checked += 1;
            }
            None if values.is_empty() => {}
            None => return Err(format!("produced `{name}` that Keras did not")),
        }
    }
    if checked != case.expected.len() {
        return Err(format!(
            "checked {checked} of {} expected fields",
            case.expected.len()
        ));
    }
    if path == Path::Resident {
        // The slots the device kept read back as the host path leaves them.
        opt.sync_resident(&mut state, &dev)
            .map_err(|e| format!("sync: {e}"))?;
        if state.is_live() {
            return Err("the state stayed live after a sync".into());
        }
    }
    Ok(Some(opt.state()))
}

/// The Adam family's shared hyper-parameters (`beta_1`, `beta_2`, `epsilon`) from the config.
macro_rules! with_moments {
    ($builder:expr, $c:expr) => {
        $builder
            .with_beta_1($c.f64("beta_1"))
            .with_beta_2($c.f64("beta_2"))
            .with_epsilon($c.f64("epsilon"))
    };
}

fn check(case: &Case) -> Result<(), String> {
    let c = Cfg::new(&case.config);
    let class = c.get("class").as_str().ok_or("no class")?.to_string();
    match class.as_str() {
        "SGD" => run(
            Sgd::new()
                .with_momentum(c.f64("momentum"))
                .with_nesterov(c.bool("nesterov")),
            &c,
            case,
        ),
        "Adam" => run(
            with_moments!(Adam::new(), c).with_amsgrad(c.bool("amsgrad")),
            &c,
            case,
        ),
        "AdamW" => run(
            with_moments!(AdamW::new(), c).with_amsgrad(c.bool("amsgrad")),
            &c,
            case,
        ),
        "RMSprop" => run(
            RMSprop::new()
                .with_rho(c.f64("rho"))
                .with_momentum(c.f64("momentum"))
                .with_epsilon(c.f64("epsilon"))
                .with_centered(c.bool("centered")),
            &c,
            case,
        ),
        "Adagrad" => run(
            Adagrad::new()
                .with_initial_accumulator_value(c.f64("initial_accumulator_value"))
                .with_epsilon(c.f64("epsilon")),
            &c,
            case,
        ),
        "Adadelta" => run(
            Adadelta::new()
                .with_rho(c.f64("rho"))
                .with_epsilon(c.f64("epsilon")),
            &c,
            case,
        ),
        "Adamax" => run(with_moments!(Adamax::new(), c), &c, case),
        "Nadam" => run(with_moments!(Nadam::new(), c), &c, case),
        "Lion" => run(
            Lion::new()
                .with_beta_1(c.f64("beta_1"))
                .with_beta_2(c.f64("beta_2")),
            &c,
            case,
        ),
        "Ftrl" => run(
            Ftrl::new()
                .with_learning_rate_power(c.f64("learning_rate_power"))
                .with_initial_accumulator_value(c.f64("initial_accumulator_value"))
                .with_l1_regularization_strength(c.f64("l1_regularization_strength"))
                .with_l2_regularization_strength(c.f64("l2_regularization_strength"))
                .with_l2_shrinkage_regularization_strength(
                    c.f64("l2_shrinkage_regularization_strength"),
                )
                .with_beta(c.f64("beta")),
            &c,
            case,
        ),
        "Lamb" => run(with_moments!(Lamb::new(), c), &c, case),
        "Adafactor" => run(
            Adafactor::new()
                .with_beta_2_decay(c.f64("beta_2_decay"))
                .with_epsilon_1(c.f64("epsilon_1"))
                .with_epsilon_2(c.f64("epsilon_2"))
                .with_clip_threshold(c.f64("clip_threshold"))
                .with_relative_step(c.bool("relative_step")),
            &c,
            case,
        ),
        other => Err(format!("unknown optimizer class {other}")),
    }
}

/// Every case of `optimizers.json` (the public fixture) and `optimizers_more.json` (other
/// variable shapes; `make_optimizers_more.py` beside it), whatever their number.
#[test]
fn every_keras_optimizer_case_matches() {
    let cases = load_cases("optimizers");
    let mut report = Report::default();
    for case in &cases {
        report.record(&case.name, check(case));
    }
    report.finish(cases.len());
    let (ran, expected) = RESIDENT.with(Cell::get);
    eprintln!("{ran} of {} cases also ran resident", cases.len());
    assert_eq!(ran, expected);
    assert!(
        ran >= 20,
        "only {ran} cases ran resident: the device kernels are barely tested"
    );
}

#[test]
fn the_public_optimizer_fixture_is_the_one_keras_wrote() {
    let file = load("optimizers.json");
    assert_eq!(file.category, "optimizers");
    assert_eq!(
        file.cases.len(),
        48,
        "tests/fixtures/keras/optimizers.json changed"
    );
}
