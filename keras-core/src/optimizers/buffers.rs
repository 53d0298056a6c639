//! The per-parameter state a [`KerasOptimizer`](super::KerasOptimizer) allocates on its first
//! step: slots, EMA, gradient accumulator and a gradient work buffer.

use std::ops::Range;

use super::base_options::BaseOptions;
use super::clipping::Clipping;
use super::update_rule::{Slots, UpdateRule, MAX_SLOTS};
use super::FlatParams;
use crate::{Error, Result};

/// Buffers sized from a [`FlatParams`] layout; reused by every step (no per-step allocation).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Buffers {
    /// `(offset, len)` of every variable, to check later steps against.
    pub(crate) layout: Vec<(usize, usize)>,
    /// Slot buffers, in the rule's `slot_names` order.
    pub(crate) slots: Vec<Vec<f32>>,
    /// `slot_ranges[k][i]`: where variable `i` lives in slot `k`.
    pub(crate) slot_ranges: Vec<Vec<Range<usize>>>,
    /// Moving averages of the variables (empty without EMA).
    pub(crate) ema: Vec<f32>,
    /// Accumulated gradients (empty without gradient accumulation).
    pub(crate) accumulator: Vec<f32>,
    /// Unscaled / accumulated / clipped gradients (empty when no option touches gradients).
    pub(crate) work: Vec<f32>,
    /// The lengths of the buffers above while they are released (see [`Buffers::release`]).
    pub(crate) released: Option<Released>,
}

/// The lengths [`Buffers::restore`] gives the released buffers back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Released {
    slots: Vec<usize>,
    ema: usize,
    accumulator: usize,
    work: usize,
}

impl Buffers {
    /// Allocates everything `rule` and `options` need for `params`.
    pub(crate) fn new<U: UpdateRule>(
        rule: &U,
        options: &BaseOptions,
        clipping: Clipping,
        params: &FlatParams,
    ) -> Result<Self> {
        let names = rule.slot_names();
        if names.len() > MAX_SLOTS {
            return Err(Error::invalid(
                "slot_names",
                format!("an update rule may declare at most {MAX_SLOTS} slots"),
            ));
        }
        let n = params.len();
        let mut slots = Vec::with_capacity(names.len());
        let mut slot_ranges = Vec::with_capacity(names.len());
        for k in 0..names.len() {
            let mut ranges = Vec::with_capacity(params.vars.len());
            let mut end = 0;
            for var in &params.vars {
                let len = rule.slot_len(k, var);
                ranges.push(end..end + len);
                end += len;
            }
            slots.push(vec![rule.slot_init(k); end]);
            slot_ranges.push(ranges);
        }
        let preprocess = options.loss_scale_factor.is_some()
            || options.gradient_accumulation_steps.is_some()
            || clipping != Clipping::None;
        Ok(Self {
            layout: params.vars.iter().map(|v| (v.offset, v.len)).collect(),
            slots,
            slot_ranges,
            ema: if options.use_ema {
                vec![0.0; n]
            } else {
                Vec::new()
            },
            accumulator: if options.gradient_accumulation_steps.is_some() {
                vec![0.0; n]
            } else {
                Vec::new()
            },
            work: if preprocess { vec![0.0; n] } else { Vec::new() },
            released: None,
        })
    }

    /// Frees the host copies of the state (slots, averages, accumulators, work buffer) while a
    /// device mirror holds it (a live [`DeviceState`](super::DeviceState)), so that resident
    /// steps do not keep the optimizer's state twice. [`restore`](Self::restore) gives them back
    /// (zeroed, to be overwritten from the mirror).
    pub(crate) fn release(&mut self) {
        if self.released.is_some() {
            return;
        }
        self.released = Some(Released {
            slots: self.slots.iter().map(Vec::len).collect(),
            ema: self.ema.len(),
            accumulator: self.accumulator.len(),
            work: self.work.len(),
        });
        for slot in &mut self.slots {
            *slot = Vec::new();
        }
        self.ema = Vec::new();
        self.accumulator = Vec::new();
        self.work = Vec::new();
    }

    /// Reallocates the buffers [`release`](Self::release) freed, at their lengths; a no-op when
    /// nothing is released.
    pub(crate) fn restore(&mut self) {
        let Some(r) = self.released.take() else {
            return;
        };
        for (slot, &len) in self.slots.iter_mut().zip(&r.slots) {
            *slot = vec![0.0; len];
        }
        self.ema = vec![0.0; r.ema];
        self.accumulator = vec![0.0; r.accumulator];
        self.work = vec![0.0; r.work];
    }

    /// Whether `params` has the layout these buffers were built for.
    pub(crate) fn matches(&self, params: &FlatParams) -> bool {
        self.layout.len() == params.vars.len()
            && self
                .layout
                .iter()
                .zip(&params.vars)
                .all(|(&(offset, len), v)| offset == v.offset && len == v.len)
    }

    /// The named state buffers (slots, then `ema` and `gradient_accumulator` when used).
    pub(crate) fn named<'a>(
        &'a self,
        slot_names: &'static [&'static str],
    ) -> impl Iterator<Item = (&'static str, &'a Vec<f32>)> {
        let extra = [
            ("ema", &self.ema, !self.ema.is_empty()),
            (
                "gradient_accumulator",
                &self.accumulator,
                !self.accumulator.is_empty(),
            ),
        ];
        slot_names.iter().copied().zip(&self.slots).chain(
            extra
                .into_iter()
                .filter(|(_, _, used)| *used)
                .map(|(name, buf, _)| (name, buf)),
        )
    }

    /// The named state buffer `name`, mutably.
    pub(crate) fn named_mut(
        &mut self,
        slot_names: &'static [&'static str],
        name: &str,
    ) -> Option<&mut Vec<f32>> {
        match name {
            "ema" if !self.ema.is_empty() => Some(&mut self.ema),
            "gradient_accumulator" if !self.accumulator.is_empty() => Some(&mut self.accumulator),
            _ => {
                let k = slot_names.iter().position(|&s| s == name)?;
                self.slots.get_mut(k)
            }
        }
    }
}

/// Variable `i`'s part of every slot buffer.
pub(crate) fn slot_views<'a>(
    slots: &'a mut [Vec<f32>],
    ranges: &[Vec<Range<usize>>],
    i: usize,
) -> Slots<'a> {
    let mut out: Slots<'a> = Default::default();
    for ((view, buf), r) in out.iter_mut().zip(slots.iter_mut()).zip(ranges) {
        *view = &mut buf[r[i].clone()];
    }
    out
}
