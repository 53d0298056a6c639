//! Every case of `optimizers.json`: variables (and EMA, learning rate, iterations) after each
//! of 6 `apply_gradients` calls of Keras's optimizers, base options included. Each case runs on
//! the flat host buffers (`Optimizer::apply`) and, where the optimizer's options allow, again
//! resident on [`TestDevice`](common::TestDevice) (`Optimizer::apply_resident`: the device's
//! update kernels, the CUDA ones under the `cuda` feature), against the same Keras numbers.

mod common;

use std::cell::Cell;

use common::any_optimizer::{rule_from, with_rule};
use common::keras_config::{base_options, with_learning_rate, Cfg};
use common::{
    close, compare, load, load_cases, test_device, Array, Case, Report, TestDevice,
    DEVICE_TOL_FACTOR,
};
use keras_core::device::{Buffer, KerasDevice};
use keras_core::optimizers::schedules::LearningRateSchedule;
use keras_core::optimizers::{
    DeviceState, FlatParams, KerasOptimizer, Optimizer, OptimizerBuilder, ResidentVars, UpdateRule,
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

/// Sets the learning rate (a number or a schedule object) and the base options, builds and runs
/// the case on the host, then resident where its options allow.
fn run<U: UpdateRule + Clone>(
    builder: OptimizerBuilder<U>,
    c: &Cfg,
    case: &Case,
) -> Result<(), String> {
    let expect_resident = runs_resident(c);
    let builder = with_learning_rate(base_options(builder, c)?, c)?;
    let num_steps = c.u64("num_steps")? as usize;
    c.check_all_used("config")?;
    let opt = builder.build().map_err(|e| e.to_string())?;
    let host = simulate(opt.clone(), num_steps, case, Path::Host)?;
    let resident = simulate(opt, num_steps, case, Path::Resident)?;
    let Some(host) = host else {
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

/// One variable of a case: `var<i>_init` (any shape, a scalar included) and its gradients
/// `grad<i>` (`[steps, ...shape]`).
struct Var {
    shape: Vec<usize>,
    init: Vec<f32>,
    grads: Vec<f32>,
}

impl Var {
    fn len(&self) -> usize {
        self.init.len()
    }
}

/// The case's variables `var0_init`, `var1_init`, ... (as many as it has, at least one), with
/// their gradients; an array whose values do not fill its shape is an `Err` naming it.
fn variables(case: &Case) -> Result<Vec<Var>, String> {
    let filled = |key: &str, a: &Array| {
        if a.data.len() == a.shape.iter().product::<usize>() {
            Ok(())
        } else {
            Err(format!(
                "`{key}` has {} values for shape {:?}",
                a.data.len(),
                a.shape
            ))
        }
    };
    let mut vars = Vec::new();
    while let Some(init) = case.inputs.get(&format!("var{}_init", vars.len())) {
        let i = vars.len();
        filled(&format!("var{i}_init"), init)?;
        let key = format!("grad{i}");
        let grads = case.inputs.get(&key).ok_or(format!("no `{key}`"))?;
        filled(&key, grads)?;
        if grads.shape.get(1..) != Some(&init.shape[..]) {
            return Err(format!(
                "`{key}` has shape {:?}, not [steps] + {:?}",
                grads.shape, init.shape
            ));
        }
        vars.push(Var {
            shape: init.shape.clone(),
            init: init.f32(),
            grads: grads.f32(),
        });
    }
    if vars.is_empty() {
        return Err("no `var0_init`".into());
    }
    Ok(vars)
}

/// Keras's loop on `path`: read the learning rate, apply one step, record everything. Returns
/// the optimizer's state at the end, or `None` when the steps did not run (`Resident` declines,
/// changing nothing, where the options need the host path).
fn simulate<U: UpdateRule, S: LearningRateSchedule>(
    mut opt: KerasOptimizer<U, S>,
    num_steps: usize,
    case: &Case,
    path: Path,
) -> Result<Option<State>, String> {
    // The variables' number and shapes are the case's (the public file uses [3, 4] and [4]).
    let case_vars = variables(case)?;
    let names: Vec<String> = (0..case_vars.len()).map(|i| format!("var{i}")).collect();
    let mut params = FlatParams::from_layout(
        names
            .iter()
            .zip(&case_vars)
            .map(|(name, v)| (name.as_str(), &v.shape[..])),
    );
    let mut offsets = Vec::new();
    let mut at = 0;
    for (i, v) in case_vars.iter().enumerate() {
        params.var_mut(i).copy_from_slice(&v.init);
        offsets.push(at..at + v.len());
        at += v.len();
    }
    let mut values = vec![Vec::new(); case_vars.len()];
    let mut emas = vec![Vec::new(); case_vars.len()];
    let (mut lrs, mut iterations) = (Vec::new(), Vec::new());
    let reads_ema = case.expected.keys().any(|k| k.starts_with("ema"));
    let dev = test_device(0);
    let upload = |v: &[f32]| dev.try_upload(v).map_err(|e| format!("{e:?}"));
    let mut vars = DeviceVars {
        values: (0..case_vars.len())
            .map(|i| upload(params.var(i)))
            .collect::<Result<_, _>>()?,
        grads: Vec::new(),
        dev: dev.clone(),
    };
    let mut state = DeviceState::<TestDevice>::default();
    for t in 0..num_steps {
        lrs.push(opt.learning_rate());
        for (i, (v, range)) in case_vars.iter().zip(&offsets).enumerate() {
            let g = v
                .grads
                .get(t * v.len()..(t + 1) * v.len())
                .ok_or(format!("grad{i} has too few steps"))?;
            params.grads[range.clone()].copy_from_slice(g);
        }
        match path {
            Path::Host => opt
                .apply(&mut params)
                .map_err(|e| format!("step {t}: {e}"))?,
            Path::Resident => {
                vars.grads = offsets
                    .iter()
                    .map(|r| upload(&params.grads[r.clone()]))
                    .collect::<Result<_, _>>()?;
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
                if reads_ema {
                    // The averages live on the device: read them back (the next step uploads
                    // them again), as a callback reading the optimizer's state does.
                    opt.sync_resident(&mut state, &dev)
                        .map_err(|e| format!("sync: {e}"))?;
                }
                for (i, (grad, range)) in vars.grads.iter().zip(&offsets).enumerate() {
                    let mut zeroed = vec![1.0; range.len()];
                    dev.try_download(grad, &mut zeroed)
                        .map_err(|e| format!("{e:?}"))?;
                    if zeroed.iter().any(|g| *g != 0.0) {
                        return Err(format!("resident step {t} left gradient {i} unzeroed"));
                    }
                }
            }
        }
        for (i, v) in values.iter_mut().enumerate() {
            v.extend_from_slice(params.var(i));
        }
        iterations.push(opt.iterations() as f32);
        if let Some(ema) = opt.moving_average() {
            for (e, range) in emas.iter_mut().zip(&offsets) {
                e.extend_from_slice(&ema[range.clone()]);
            }
        }
    }
    // On CUDA the resident kernels' `sqrt`, division and `powf` may round differently.
    let tol = if path == Path::Resident {
        1e-5 * DEVICE_TOL_FACTOR
    } else {
        1e-5
    };
    let mut fields: Vec<(String, Vec<f32>, f64)> = Vec::new();
    for (i, (v, e)) in values.into_iter().zip(emas).enumerate() {
        fields.push((format!("var{i}"), v, tol));
        fields.push((format!("ema{i}"), e, 1e-5));
    }
    fields.push(("learning_rate".into(), lrs, 1e-5));
    fields.push(("iterations".into(), iterations, 1e-5));
    let mut checked = 0;
    for (name, values, tol) in &fields {
        match case.expected.get(name) {
            Some(expected) => {
                compare(values, expected, *tol).map_err(|e| format!("{name}: {e}"))?;
                checked += 1;
            }
            None if values.is_empty() => {}
            None => return Err(format!("produced `{name}` that Keras did not")),
        }
    }
    if checked != case.expected.len() {
        let unread: Vec<&String> = case
            .expected
            .keys()
            .filter(|k| !fields.iter().any(|(name, _, _)| name == *k))
            .collect();
        return Err(format!(
            "checked {checked} of {} expected fields (not read: {unread:?})",
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

/// Builds the case's optimizer (any of Keras's twelve, from its class and hyper-parameters)
/// and runs it.
fn check(case: &Case) -> Result<(), String> {
    let c = Cfg::new(&case.config);
    let rule = rule_from(&c)?;
    with_rule!(rule, |b| run(b, &c, case))
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
    assert_eq!(
        ran, expected,
        "cases run resident, and cases whose options allow it"
    );
    assert!(
        ran > 0,
        "no case ran resident: the device kernels are not tested"
    );
}

/// The public file is of the schema the harness reads (its number of cases is not pinned: the
/// harness runs whatever cases a file of the schema holds).
#[test]
fn the_public_optimizer_fixture_is_of_the_optimizers_schema() {
    let file = load("optimizers.json");
    assert_eq!(file.category, "optimizers");
    assert!(!file.cases.is_empty(), "optimizers.json has no case");
    for case in &file.cases {
        assert!(
            case.config["class"].is_string() && case.inputs.contains_key("var0_init"),
            "{}: not a case of the optimizers schema",
            case.name
        );
    }
}
