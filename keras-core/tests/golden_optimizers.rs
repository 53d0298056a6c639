//! Every case of `optimizers.json`: variables (and EMA, learning rate, iterations) after each
//! of 6 `apply_gradients` calls of Keras's optimizers, base options included.

mod common;

use common::keras_config::{schedule_from, Cfg};
use common::{compare, load, Case, Report};
use keras_core::optimizers::schedules::LearningRateSchedule;
use keras_core::optimizers::{
    Adadelta, Adafactor, Adagrad, Adam, AdamW, Adamax, FlatParams, Ftrl, KerasOptimizer, Lamb,
    Lion, Nadam, Optimizer, OptimizerBuilder, RMSprop, Sgd, UpdateRule,
};

/// Applies the generic Keras options of the config.
fn base_options<U: UpdateRule>(mut b: OptimizerBuilder<U>, c: &Cfg) -> OptimizerBuilder<U> {
    if let Some(wd) = c.opt_f64("weight_decay") {
        b = b.with_weight_decay(wd);
    }
    if let Some(v) = c.opt_f64("clipnorm") {
        b = b.with_clipnorm(v);
    }
    if let Some(v) = c.opt_f64("clipvalue") {
        b = b.with_clipvalue(v);
    }
    if let Some(v) = c.opt_f64("global_clipnorm") {
        b = b.with_global_clipnorm(v);
    }
    let ema_momentum = c.f64("ema_momentum");
    if c.bool("use_ema") {
        b = b.with_ema(ema_momentum);
    }
    if let Some(f) = c.opt_f64("ema_overwrite_frequency") {
        b = b.with_ema_overwrite_frequency(f as u64);
    }
    if let Some(s) = c.opt_f64("loss_scale_factor") {
        b = b.with_loss_scale_factor(s);
    }
    if let Some(s) = c.opt_f64("gradient_accumulation_steps") {
        b = b.with_gradient_accumulation_steps(s as u64);
    }
    b
}

/// Sets the learning rate (a number or a schedule object), builds and runs the case.
fn run<U: UpdateRule>(builder: OptimizerBuilder<U>, c: &Cfg, case: &Case) -> Result<(), String> {
    let builder = base_options(builder, c);
    let num_steps = c.u64("num_steps") as usize;
    let lr = c.get("learning_rate");
    c.check_all_used("config")?;
    if let Some(lr) = lr.as_f64() {
        let opt = builder
            .with_learning_rate(lr as f32)
            .build()
            .map_err(|e| e.to_string())?;
        return simulate(opt, num_steps, case);
    }
    let s = schedule_from(&Cfg::new(lr), "schedule")?;
    let opt = builder
        .with_schedule(s)
        .build()
        .map_err(|e| e.to_string())?;
    simulate(opt, num_steps, case)
}

/// Keras's loop: read the learning rate, apply one step, record everything.
fn simulate<U: UpdateRule, S: LearningRateSchedule>(
    mut opt: KerasOptimizer<U, S>,
    num_steps: usize,
    case: &Case,
) -> Result<(), String> {
    let mut params = FlatParams::from_layout([("var0", &[3, 4][..]), ("var1", &[4][..])]);
    params
        .var_mut(0)
        .copy_from_slice(&case.inputs["var0_init"].f32());
    params
        .var_mut(1)
        .copy_from_slice(&case.inputs["var1_init"].f32());
    let (grad0, grad1) = (case.inputs["grad0"].f32(), case.inputs["grad1"].f32());
    let mut got: [Vec<f32>; 6] = Default::default();
    let [var0, var1, ema0, ema1, lrs, iterations] = &mut got;
    for t in 0..num_steps {
        lrs.push(opt.learning_rate());
        params.grads[..12].copy_from_slice(&grad0[t * 12..(t + 1) * 12]);
        params.grads[12..].copy_from_slice(&grad1[t * 4..(t + 1) * 4]);
        opt.apply(&mut params)
            .map_err(|e| format!("step {t}: {e}"))?;
        var0.extend_from_slice(params.var(0));
        var1.extend_from_slice(params.var(1));
        iterations.push(opt.iterations() as f32);
        if let Some(ema) = opt.moving_average() {
            ema0.extend_from_slice(&ema[..12]);
            ema1.extend_from_slice(&ema[12..]);
        }
    }
    let fields = [
        ("var0", var0, 1e-5),
        ("var1", var1, 1e-5),
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
    Ok(())
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

#[test]
fn every_keras_optimizer_case_matches() {
    let file = load("optimizers.json");
    assert_eq!(file.category, "optimizers");
    assert_eq!(file.cases.len(), 48);
    let mut report = Report::default();
    for case in &file.cases {
        report.record(&case.name, check(case));
    }
    report.finish(file.cases.len());
}
