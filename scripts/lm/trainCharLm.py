"""Trains the demo's small character-level language model and exports it to ONNX.

A 2-block GPT (token + position embedding, causal self-attention, LayerNorm, MLP) trained on real
English text: the license texts Debian ships in /usr/share/common-licenses (copying them verbatim is
permitted). The last 15% of every text is held out; the evaluation windows come from there, each
tagged with its source text so the spec can slice by it.

Run once (needs Debian's python3-torch and python3-onnx; not part of the build or the tests):
    /usr/bin/python3 scripts/lm/trainCharLm.py
Writes demo/lm/char_gpt.onnx, demo/lm/vocab.json and demo/lm/heldout.jsonl.
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

SOURCES = ["GPL-3", "Apache-2.0", "MPL-2.0", "GFDL-1.3", "LGPL-2.1", "Artistic"]
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "demo", "lm")
CONTEXT = 64
D_MODEL, HEADS, BLOCKS = 96, 4, 2
STEPS = int(os.environ.get("STEPS", "1500"))
torch.manual_seed(0)
torch.set_num_threads(2)


def load_texts():
    texts = {}
    for name in SOURCES:
        with open(f"/usr/share/common-licenses/{name}", encoding="utf-8", errors="replace") as f:
            # Collapse runs of spaces: the texts are indented for terminals.
            texts[name] = " ".join(line.strip() for line in f.read().splitlines() if line.strip()) + "\n"
    return texts


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D_MODEL)
        self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL)
        self.proj = nn.Linear(D_MODEL, D_MODEL)
        self.ln2 = nn.LayerNorm(D_MODEL)
        self.fc1 = nn.Linear(D_MODEL, 4 * D_MODEL)
        self.fc2 = nn.Linear(4 * D_MODEL, D_MODEL)

    def forward(self, x, mask):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D_MODEL, dim=2)
        heads = lambda z: z.view(b, t, HEADS, d // HEADS).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d // HEADS)) + mask[:t, :t]
        y = (F.softmax(att, dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class CharGpt(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.tok = nn.Embedding(vocab, D_MODEL)
        self.pos = nn.Parameter(torch.randn(CONTEXT, D_MODEL) * 0.02)
        self.blocks = nn.ModuleList([Block() for _ in range(BLOCKS)])
        self.ln = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, vocab)
        self.register_buffer("mask", torch.triu(torch.full((CONTEXT, CONTEXT), -1e9), diagonal=1))

    def forward(self, tokens):
        t = tokens.shape[1]
        x = self.tok(tokens) + self.pos[:t]
        for block in self.blocks:
            x = block(x, self.mask)
        return self.head(self.ln(x))


def main():
    texts = load_texts()
    chars = sorted(set("".join(texts.values())))
    index = {c: i for i, c in enumerate(chars)}
    train, heldout = [], {}
    for name, text in texts.items():
        cut = int(len(text) * 0.85)
        train.append(torch.tensor([index[c] for c in text[:cut]]))
        heldout[name] = [index[c] for c in text[cut:]]
    data = torch.cat(train)
    model = CharGpt(len(chars))
    print(f"{sum(p.numel() for p in model.parameters())} parameters, vocab {len(chars)}, {len(data)} training chars", file=sys.stderr)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, STEPS)
    for step in range(STEPS):
        starts = torch.randint(0, len(data) - CONTEXT - 1, (32,))
        x = torch.stack([data[s:s + CONTEXT] for s in starts])
        y = torch.stack([data[s + 1:s + CONTEXT + 1] for s in starts])
        loss = F.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == STEPS - 1:
            print(f"step {step} loss {loss.item():.3f}", file=sys.stderr)
    model.eval()
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "vocab.json"), "w") as f:
        json.dump(chars, f)
    # Evaluation windows: CONTEXT + 1 tokens (inputs and next-token targets), non-overlapping.
    with open(os.path.join(OUT, "heldout.jsonl"), "w") as f:
        for name, ids in heldout.items():
            for s in range(0, len(ids) - CONTEXT - 1, CONTEXT):
                f.write(json.dumps({"source": name, "tokens": ids[s:s + CONTEXT + 1]}) + "\n")
    with torch.no_grad():
        nll = []
        for name, ids in heldout.items():
            t = torch.tensor(ids)
            for s in range(0, len(ids) - CONTEXT - 1, CONTEXT):
                logits = model(t[s:s + CONTEXT].unsqueeze(0))[0]
                nll.append(F.cross_entropy(logits, t[s + 1:s + CONTEXT + 1]).item())
        print(f"held-out perplexity {math.exp(sum(nll) / len(nll)):.3f}", file=sys.stderr)
    torch.onnx.export(
        model, torch.zeros(1, CONTEXT, dtype=torch.long), os.path.join(OUT, "char_gpt.onnx"),
        input_names=["tokens"], output_names=["logits"], opset_version=17,
        dynamic_axes={"tokens": {0: "batch", 1: "time"}, "logits": {0: "batch", 1: "time"}},
    )


if __name__ == "__main__":
    main()
