//! The benchmark workloads and their synthetic data, bit-identical to `common.py`'s `make_data`.
//!
//! For sample `i` and feature `j` (`F` features, `C` classes): `u = splitmix64(i*F + j) >> 40`
//! (24 bits), `x[i, j] = u / 2^24 - 0.5` (exact in `f32`), and `label[i]` is the first block
//! (of `F / C` consecutive features) with the largest integer sum of `u`.

/// One benchmark workload of `/work/shared/bench/README.md`.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// The README's id (`W1`).
    pub id: &'static str,
    /// `common.py`'s name (`mlp`).
    pub name: &'static str,
    /// Layer widths, input first.
    pub dims: &'static [usize],
    /// Samples per batch.
    pub batch: usize,
    /// Samples per epoch.
    pub samples: usize,
    /// Epochs of a default run, the warm-up included: the README's 3, except W3 (2, to stay
    /// under a minute for the three loops on two cores).
    pub default_epochs: usize,
    /// Rounds of a default run (the median is reported): 5 for W2, whose epochs take
    /// milliseconds, else 1.
    pub default_repeat: usize,
}

/// W1, W2, W3.
pub const WORKLOADS: [Workload; 3] = [
    Workload {
        id: "W1",
        name: "mlp",
        dims: &[784, 256, 128, 10],
        batch: 128,
        samples: 60000,
        default_epochs: 3,
        default_repeat: 1,
    },
    Workload {
        id: "W2",
        name: "tiny",
        dims: &[4, 16, 3],
        batch: 16,
        samples: 4800,
        default_epochs: 3,
        default_repeat: 5,
    },
    Workload {
        id: "W3",
        name: "wide",
        dims: &[1024, 1024, 1024, 10],
        batch: 256,
        samples: 20480,
        default_epochs: 2,
        default_repeat: 1,
    },
];

impl Workload {
    /// The workload called `key` (`W1` or `mlp`, any case).
    pub fn find(key: &str) -> Option<Workload> {
        WORKLOADS
            .into_iter()
            .find(|w| w.id.eq_ignore_ascii_case(key) || w.name.eq_ignore_ascii_case(key))
    }

    /// Trainable parameters (weights and biases) of the MLP.
    pub fn params(&self) -> usize {
        self.dims.windows(2).map(|d| d[0] * d[1] + d[1]).sum()
    }

    /// Input features.
    pub fn features(&self) -> usize {
        self.dims[0]
    }

    /// Output classes.
    pub fn classes(&self) -> usize {
        self.dims[self.dims.len() - 1]
    }
}

/// `common.py`'s `splitmix64` with its seed 42 (wrapping `u64` arithmetic).
pub fn splitmix64(k: u64) -> u64 {
    let mut z = k.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(42);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Row-major features (`samples * F`) and class ids (as `f32`) of workload `w`.
pub fn make_data(w: &Workload) -> (Vec<f32>, Vec<f32>) {
    let (n, f, c) = (w.samples, w.features(), w.classes());
    let block = f / c;
    let mut x = Vec::with_capacity(n * f);
    let mut y = Vec::with_capacity(n);
    let mut u = vec![0u64; f];
    for i in 0..n {
        for (j, u) in u.iter_mut().enumerate() {
            *u = splitmix64((i * f + j) as u64) >> 40;
            x.push(*u as f32 / 16_777_216.0 - 0.5);
        }
        let mut best = (0, 0u64);
        for k in 0..c {
            let sum = u[k * block..(k + 1) * block].iter().sum::<u64>();
            if k == 0 || sum > best.1 {
                best = (k, sum);
            }
        }
        y.push(best.0 as f32);
    }
    (x, y)
}
