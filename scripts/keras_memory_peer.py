"""Keras 3 (JAX backend) on the bench's workloads for N epochs: throughput and resident memory.

Usage: KERAS_BACKEND=jax python keras_memory_peer.py <mlp|wide|convnet> EPOCHS [predict]

Data: the shared benchmark generator (`common.py` from BENCH_DIR, default ../shared/bench);
`convnet` is W4, Keras's "Simple MNIST convnet" on 12,032 images of 28x28x1 from the W1
generator (784 features, 10 classes), as `cargo run --release --example bench -- W4` trains.
Prints one CSV line:
`keras-jax,workload,batch,samples_per_sec,peak_rss_mb,rss_epoch2_mb,rss_last_mb,final_loss`
(samples/s over epochs 2..N; RSS read from /proc/self/status after each epoch).
With `predict`, then `model.predict` over the training images in batches of the workload's size,
EPOCHS passes, and a second line
`keras-jax-predict,workload,batch,samples_per_sec,peak_rss_mb,rss_mb,rss_mb,mean_output`
(samples/s over passes 2..N, as `bench W4` times keras-rs's `predict`).
"""
import gc
import os
import resource
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.environ.get("BENCH_DIR", os.path.join(os.path.dirname(__file__), "../../shared/bench")))

import keras  # noqa: E402
import common  # noqa: E402

common.WORKLOADS["convnet"] = dict(dims=[784, 10], batch=128, samples=12032, epochs=3)


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times, self.rss = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._t)
        self.rss.append(rss_mb())
        gc.collect()


def model_for(name, dims):
    if name == "convnet":
        return keras.Sequential([
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(10),
        ])
    layers = [keras.Input(shape=(dims[0],))]
    for d in dims[1:-1]:
        layers.append(keras.layers.Dense(d, activation="relu"))
    layers.append(keras.layers.Dense(dims[-1]))
    return keras.Sequential(layers)


def main():
    name, epochs = sys.argv[1], int(sys.argv[2])
    w = common.WORKLOADS[name]
    keras.utils.set_random_seed(0)
    x, y = common.make_data(name)
    if name == "convnet":
        x = x.reshape(-1, 28, 28, 1)
    model = model_for(name, w["dims"])
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    timer = EpochTimer()
    hist = model.fit(x, y, batch_size=w["batch"], epochs=epochs, shuffle=False, verbose=0,
                     callbacks=[timer])
    sps = w["samples"] * (epochs - 1) / sum(timer.times[1:])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"keras-jax,{name},{w['batch']},{sps:.1f},{peak:.1f},{timer.rss[1]:.1f},"
          f"{timer.rss[-1]:.1f},{hist.history['loss'][-1]:.5f}")
    if len(sys.argv) > 3 and sys.argv[3] == "predict":
        times = []
        for _ in range(epochs):
            start = time.perf_counter()
            out = model.predict(x, batch_size=w["batch"], verbose=0)
            times.append(time.perf_counter() - start)
        sps = w["samples"] * (epochs - 1) / sum(times[1:])
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"keras-jax-predict,{name},{w['batch']},{sps:.1f},{peak:.1f},{rss_mb():.1f},"
              f"{rss_mb():.1f},{float(out.mean()):.5f}")


if __name__ == "__main__":
    main()
