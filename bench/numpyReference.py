"""NumPy implementation of the same math as QuantLens's analysis kernels, timed on the same tensor.

Usage: python3 numpyReference.py RAW_FLOAT32_FILE ROWS COLS REPEATS
Prints one JSON object: {kernel: best seconds}. Channels run along axis 1 (MatMul B [K, N]); blocks along K.
"""
import json
import sys
import time

import numpy as np

path, rows, cols, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
w = np.fromfile(path, dtype=np.float32).reshape(rows, cols)


def int_error(w, bits, block):
    qmax = 2 ** (bits - 1) - 1
    if block:
        g = w.reshape(rows // block, block, cols)
        scale = (np.abs(g).max(axis=1, keepdims=True) / np.float32(qmax)).astype(np.float32)
    else:
        g = w
        scale = (np.abs(w).max(axis=0, keepdims=True) / np.float32(qmax)).astype(np.float32)
    safe = np.where(scale == 0, np.float32(1), scale)
    q = np.clip(np.rint(g / safe), -qmax, qmax)
    hat = (q * safe).astype(np.float32)
    e = (g - hat).astype(np.float64)
    noise = (e * e).sum()
    signal = (g.astype(np.float64) ** 2).sum()
    return 10 * np.log10(signal / noise)


def histogram(w):
    return np.histogram(w, bins=256)


def fp16_error(w):
    hat = w.astype(np.float16).astype(np.float32)
    e = (w - hat).astype(np.float64)
    return (e * e).sum()


def stats(w):
    x = w.astype(np.float64)
    mean = x.mean()
    d = x - mean
    m2 = (d * d).mean()
    return mean, np.sqrt(m2), (d ** 4).mean() / m2 ** 2 - 3, np.abs(x).max()


def full_report(w):
    stats(w)
    histogram(w)
    fp16_error(w)
    int_error(w, 8, 0)
    int_error(w, 8, 0)  # int8-tensor costs the same as int8-channel here
    int_error(w, 4, 32)
    int_error(w, 4, 128)
    fp16_error(w)  # stands in for fp8 (NumPy has no float8): same amount of work


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
