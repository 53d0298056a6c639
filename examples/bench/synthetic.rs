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
    /// Whether it is W4's convnet (`dims` then give only its input and output widths).
    pub convnet: bool,
}

/// W4's trainable parameters: Conv2D(32, 3) 320, Conv2D(64, 3) 18,496, Dense(10) 16,010.
pub const W4_PARAMS: usize = 320 + 18_496 + 16_010;

/// W4's training FLOPs per sample: 3 × the forward's 2 × (26·26·9·1·32 + 11·11·9·32·64 +
/// 1600·10) multiply-adds (the pooling, ReLU and bias are not counted).
pub const W4_TRAIN_FLOPS: usize = 3 * 2 * (26 * 26 * 9 * 32 + 11 * 11 * 9 * 32 * 64 + 1600 * 10);

/// W1, W2, W3, W4.
pub const WORKLOADS: [Workload; 4] = [
    Workload {
        id: "W1",
        name: "mlp",
        dims: &[784, 256, 128, 10],
        batch: 128,
        samples: 60000,
        default_epochs: 3,
        default_repeat: 1,
        convnet: false,
    },
    Workload {
        id: "W2",
        name: "tiny",
        dims: &[4, 16, 3],
        batch: 16,
        samples: 4800,
        default_epochs: 3,
        default_repeat: 5,
        convnet: false,
    },
    Workload {
        id: "W3",
        name: "wide",
        dims: &[1024, 1024, 1024, 10],
        batch: 256,
        samples: 20480,
        default_epochs: 2,
        default_repeat: 1,
        convnet: false,
    },
    // Keras's "Simple MNIST convnet" on 28×28×1 images of the W1 generator's 784 features.
    Workload {
        id: "W4",
        name: "convnet",
        dims: &[784, 10],
        batch: 128,
        samples: 12032,
        default_epochs: 3,
        default_repeat: 1,
        convnet: true,
    },
];

impl Workload {
    /// The workload called `key` (`W1` or `mlp`, any case).
    pub fn find(key: &str) -> Option<Workload> {
        WORKLOADS
            .into_iter()
            .find(|w| w.id.eq_ignore_ascii_case(key) || w.name.eq_ignore_ascii_case(key))
    }

    /// Trainable parameters (weights and biases).
    pub fn params(&self) -> usize {
        if self.convnet {
            return W4_PARAMS;
        }
        self.dims.windows(2).map(|d| d[0] * d[1] + d[1]).sum()
    }

    /// Training FLOPs per sample: 6 per weight for the MLPs, [`W4_TRAIN_FLOPS`] for W4.
    pub fn train_flops(&self) -> usize {
        if self.convnet {
            W4_TRAIN_FLOPS
        } else {
            6 * self.params()
        }
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
