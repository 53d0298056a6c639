"""Checks, with Keras 3 itself, the files `examples/keras_interop.rs` wrote (not run by CI).

    python3 -m venv /tmp/kvenv && /tmp/kvenv/bin/pip install keras==3.15.1 jax h5py
    cargo run --release --example keras_interop -- --out /tmp/interop
    KERAS_BACKEND=jax /tmp/kvenv/bin/python scripts/keras-interop-check.py /tmp/interop

1. `keras.saving.load_model("model.keras")` rebuilds and compiles the model from our config.json
   alone; its predictions equal Rust's within 1e-6.
2. The same architecture built in Python takes `model.weights.h5` with `load_weights`, optimizer
   state included; predictions again within 1e-6.
3. `fit` continues in Keras from the loaded Adam state (iteration count carried over).
4. `convnet.keras` (Conv2D, BatchNormalization, MaxPooling2D, Flatten, Dense) loads and predicts
   what Rust predicted.
5. `normalized.keras` (an adapted Normalization, then Dense) loads and predicts what Rust
   predicted, and `fit` runs on it.
6. The compiled metrics came with the file: `fit` logs `accuracy`,
   `sparse_categorical_accuracy` and the weighted `sparse_top_k_categorical_accuracy`.
7. Keras saves the loaded model again (`model.save`), and the file reads back here (the Rust
   side reads Keras-made files in `cargo test`).
Exits non-zero on any difference.
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/interop"
with open(os.path.join(out, "predictions.json")) as f:
    data = json.load(f)
x = np.asarray(data["x"], dtype="float32").reshape(data["x_shape"])
y = np.asarray(data["y"], dtype="float32")
rust = np.asarray(data["predictions"], dtype="float32").reshape(len(x), -1)
failures = []


def check(name, got, tol=1e-6):
    diff = float(np.max(np.abs(got - rust) / (1.0 + np.abs(rust))))
    status = "ok" if diff <= tol else "FAIL"
    print(f"{status}: {name}: max relative difference {diff:.3g}")
    if diff > tol:
        failures.append(name)


model = keras.saving.load_model(os.path.join(out, "model.keras"))
print("loaded", [type(l).__name__ for l in model.layers], "compiled:", model.compiled)
check("load_model(model.keras).predict", model.predict(x, verbose=0))
iterations = int(model.optimizer.iterations.numpy())
print("optimizer", type(model.optimizer).__name__, "iterations", iterations)
if iterations == 0:
    failures.append("the optimizer state did not load")

twin = keras.Sequential(
    [
        keras.Input((4,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(3),
    ]
)
twin.compile(
    optimizer=keras.optimizers.Adam(0.01),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
)
twin.optimizer.build(twin.trainable_variables)
twin.load_weights(os.path.join(out, "model.weights.h5"))
check("Sequential(...).load_weights(model.weights.h5).predict", twin.predict(x, verbose=0))
if int(twin.optimizer.iterations.numpy()) != iterations:
    failures.append("load_weights did not carry the optimizer's iteration count")

with open(os.path.join(out, "convnet.json")) as f:
    conv = json.load(f)
convnet = keras.saving.load_model(os.path.join(out, "convnet.keras"))
print("loaded", [type(l).__name__ for l in convnet.layers])
xc = np.asarray(conv["x"], dtype="float32").reshape(conv["x_shape"])
rust = np.asarray(conv["predictions"], dtype="float32").reshape(len(xc), -1)
check("load_model(convnet.keras).predict", convnet.predict(xc, verbose=0))
rust = np.asarray(data["predictions"], dtype="float32").reshape(len(x), -1)

with open(os.path.join(out, "normalized.json")) as f:
    norm_data = json.load(f)
normalized = keras.saving.load_model(os.path.join(out, "normalized.keras"))
print("loaded", [type(l).__name__ for l in normalized.layers])
rust = np.asarray(norm_data["predictions"], dtype="float32").reshape(len(x), -1)
check("load_model(normalized.keras).predict", normalized.predict(x, verbose=0))
norm_history = normalized.fit(x, y, batch_size=16, epochs=1, verbose=0)
print("Keras trained normalized.keras one epoch:", norm_history.history)
rust = np.asarray(data["predictions"], dtype="float32").reshape(len(x), -1)

history = model.fit(x, y, batch_size=16, epochs=1, verbose=0)
print("Keras continued training: loss", history.history["loss"][0],
      "iterations", int(model.optimizer.iterations.numpy()))
print("logged:", sorted(history.history))
for name in ["loss", "accuracy", "sparse_categorical_accuracy"]:
    if name not in history.history:
        failures.append(f"fit did not log {name}")
if not any("sparse_top_k_categorical_accuracy" in k for k in history.history):
    failures.append("fit did not log the weighted metric sparse_top_k_categorical_accuracy")
model.save(os.path.join(out, "resaved.keras"))
print("re-saved by Keras:", os.path.join(out, "resaved.keras"))
if failures:
    print("FAILED:", failures)
    sys.exit(1)
print("all checks passed")
