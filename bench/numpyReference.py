"""NumPy implementation of the same math as QuantLens's analysis kernels, timed on the same tensor.

Usage: python3 numpyReference.py RAW_FLOAT32_FILE ROWS COLS REPEATS
Prints one JSON object: {kernel: best seconds}. Channels run along axis 1 (MatMul B [K, N]); blocks along K.
Each scheme yields what QuantLens reports for it: SQNR, MSE, max |error|, cosine, relative L2, clipped and
zeroed fractions, and the SQNR of every channel x block cell, with float32 quantization arithmetic and float64
error sums; non-finite values are checked for first (and would be left out), as QuantLens does.
"""
import json
import sys
import time

import numpy as np

path, rows, cols, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
w = np.fromfile(path, dtype=np.float32).reshape(rows, cols)


def finite_values(w):
    return w if np.isfinite(w).all() else np.where(np.isfinite(w), w, np.float32(0))


def metrics(x, hat, cells_axis, clipped, count, nonzero):
    """Scheme metrics from values x and reconstruction hat, grouped as (blocks, block, channels) or (1, K, N)."""
    x64 = x.astype(np.float64)
    e = x64 - hat
    e2 = e * e
    noise_cells = e2.sum(axis=cells_axis)
    signal_cells = (x64 * x64).sum(axis=cells_axis)
    noise = noise_cells.sum()
    signal = signal_cells.sum()
    xe = (x64 * e).sum()
    hat_sq = signal - 2 * xe + noise
    with np.errstate(divide="ignore"):
        grid = 10 * np.log10(signal_cells / noise_cells)
    return {
        "sqnr": 10 * np.log10(signal / noise),
        "mse": noise / count,
        "max": np.abs(e).max(),
        "cosine": (signal - xe) / np.sqrt(signal * hat_sq),
        "rel": np.sqrt(noise / signal),
        "clipped": clipped / count,
        "zeroed": np.count_nonzero((hat == 0) & (x != 0)) / nonzero,
        "grid": grid,
    }


def int_error(w, bits, block, per_tensor=False):
    x = finite_values(w)
    qmax = np.float32(2 ** (bits - 1) - 1)
    if per_tensor:
        g = x.reshape(1, rows, cols)
        scale = np.float32(np.abs(x).max()) / qmax
    elif block:
        g = x.reshape(rows // block, block, cols)
        scale = (np.abs(g).max(axis=1, keepdims=True) / qmax).astype(np.float32)
    else:
        g = x.reshape(1, rows, cols)
        scale = (np.abs(g).max(axis=1, keepdims=True) / qmax).astype(np.float32)
    safe = np.where(scale == 0, np.float32(1), scale)
    q = np.rint(g / safe)
    clipped = np.count_nonzero((q < -qmax) | (q > qmax))
    hat = (np.clip(q, -qmax, qmax) * safe).astype(np.float32)
    return metrics(g, hat, 1, clipped, x.size, np.count_nonzero(x))


def fp16_error(w):
    x = finite_values(w)
    hat = x.astype(np.float16).astype(np.float32)
    clipped = np.count_nonzero(np.abs(x) > 65504)
    return metrics(x.reshape(1, rows, cols), hat.reshape(1, rows, cols), 1, clipped, x.size, np.count_nonzero(x))


def histogram(w):
    return np.histogram(w, bins=256)


def stats(w):
    x = finite_values(w).astype(np.float64)
    mean = x.mean()
    d = x - mean
    m2 = (d * d).mean()
    return mean, np.sqrt(m2), (d ** 4).mean() / m2 ** 2 - 3, np.abs(x).max(), x.min(), x.max(), np.count_nonzero(x == 0)


def full_report(w):
    stats(w)
    histogram(w)
    fp16_error(w)
    int_error(w, 8, 0)
    int_error(w, 8, 0, per_tensor=True)
    int_error(w, 4, 32)
    int_error(w, 4, 128)
    fp16_error(w)  # stands in for fp8 (NumPy has no float8): the same amount of work


kernels = {
    "int8-channel": lambda: int_error(w, 8, 0),
    "int4-block32": lambda: int_error(w, 4, 32),
    "histogram-256": lambda: histogram(w),
    "full-report": lambda: full_report(w),
}
best = {}
for name, fn in kernels.items():
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    best[name] = min(times)
print(json.dumps(best))
