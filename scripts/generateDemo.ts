/**
 * Generates the demo workspace that `npm start` opens: a few small ONNX models (random, seeded weights;
 * real trained models and data come with the slice evaluation). Run: npm run demo
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  DT,
  externalTensor,
  floatTensor,
  gaussian,
  model,
  node,
  rawTensor,
  rng,
  toFloat16Bits,
  value,
} from '../test/fixtures/onnxBuilder';

const DEMO = path.join(__dirname, '..', 'demo');
const MODELS = path.join(DEMO, 'models');
const r = rng(7);

rmSync(MODELS, { recursive: true, force: true });
mkdirSync(MODELS, { recursive: true });
const write = (file: string, bytes: Uint8Array): void => writeFileSync(path.join(MODELS, file), bytes);

// An MNIST-shaped MLP (784 -> 256 -> 128 -> 10), fp32, with one heavy-tailed layer (outliers) to inspect.
const w1 = gaussian(r, 784 * 256, 0.05);
for (let i = 0; i < w1.length; i += 997) {
  w1[i] *= 25; // a few large outliers: where per-tensor int8 and int4 lose precision
}
write(
  'mnist_mlp_fp32.onnx',
  model(
    {
      name: 'mnist_mlp',
      node: [
        node('Flatten', ['image'], ['x'], '/flatten/Flatten', { axis: 1 }),
        node('MatMul', ['x', 'fc1.weight'], ['h1'], '/fc1/MatMul'),
        node('Add', ['h1', 'fc1.bias'], ['h1b'], '/fc1/Add'),
        node('Relu', ['h1b'], ['a1'], '/act1/Relu'),
        node('MatMul', ['a1', 'fc2.weight'], ['h2'], '/fc2/MatMul'),
        node('Add', ['h2', 'fc2.bias'], ['h2b'], '/fc2/Add'),
        node('Relu', ['h2b'], ['a2'], '/act2/Relu'),
        node('MatMul', ['a2', 'fc3.weight'], ['h3'], '/fc3/MatMul'),
        node('Add', ['h3', 'fc3.bias'], ['logits'], '/fc3/Add'),
      ],
      initializer: [
        floatTensor('fc1.weight', [784, 256], w1),
        floatTensor('fc1.bias', [256], gaussian(r, 256, 0.01)),
        floatTensor('fc2.weight', [256, 128], gaussian(r, 256 * 128, 0.09)),
        floatTensor('fc2.bias', [128], gaussian(r, 128, 0.01)),
        floatTensor('fc3.weight', [128, 10], gaussian(r, 1280, 0.12)),
        floatTensor('fc3.bias', [10], gaussian(r, 10, 0.01)),
      ],
      input: [value('image', DT.float32, ['batch', 1, 28, 28])],
      output: [value('logits', DT.float32, ['batch', 10])],
    },
    {
      producerName: 'quantlens-demo',
      producerVersion: '0.1',
      metadata: { task: 'digit classification (demo weights)' },
    },
  ),
);

// A small conv net with fp16 weights (Cast to fp32 before use).
write(
  'convnet_fp16.onnx',
  model(
    {
      name: 'convnet_fp16',
      node: [
        node('Cast', ['conv1.weight'], ['c1w'], '/conv1/Cast', { to: DT.float32 }),
        node('Conv', ['image', 'c1w'], ['c1'], '/conv1/Conv', { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
        node('Relu', ['c1'], ['r1'], '/relu1/Relu'),
        node('Cast', ['conv2.weight'], ['c2w'], '/conv2/Cast', { to: DT.float32 }),
        node('Conv', ['r1', 'c2w'], ['c2'], '/conv2/Conv', { kernel_shape: [3, 3], strides: [2, 2] }),
        node('GlobalAveragePool', ['c2'], ['pooled'], '/pool/GlobalAveragePool'),
        node('Flatten', ['pooled'], ['features'], '/flatten/Flatten'),
      ],
      initializer: [
        rawTensor('conv1.weight', DT.float16, [16, 3, 3, 3], toFloat16Bits(gaussian(r, 432, 0.2))),
        rawTensor('conv2.weight', DT.float16, [32, 16, 3, 3], toFloat16Bits(gaussian(r, 4608, 0.08))),
      ],
      input: [value('image', DT.float32, ['batch', 3, 32, 32])],
      output: [value('features', DT.float32, ['batch', 32])],
    },
    { producerName: 'quantlens-demo', producerVersion: '0.1' },
  ),
);

// A linear layer already quantized to int8 (QDQ, per-channel).
const q = new Int8Array(512 * 256).map(() => Math.round((r() * 2 - 1) * 127));
write(
  'linear_int8_qdq.onnx',
  model(
    {
      name: 'linear_int8',
      node: [
        node('DequantizeLinear', ['w_q', 'w_scale', 'w_zp'], ['w'], '/proj/DequantizeLinear', { axis: 1 }),
        node('MatMul', ['x', 'w'], ['y'], '/proj/MatMul'),
      ],
      initializer: [
        rawTensor('w_q', DT.int8, [512, 256], q),
        floatTensor(
          'w_scale',
          [256],
          new Float32Array(256).map(() => 0.001 + r() * 0.004),
        ),
        rawTensor('w_zp', DT.int8, [256], new Int8Array(256)),
      ],
      input: [value('x', DT.float32, ['batch', 'seq', 512])],
      output: [value('y', DT.float32, ['batch', 'seq', 256])],
    },
    { producerName: 'quantlens-demo', producerVersion: '0.1', opsets: [['', 13]] },
  ),
);

// Weights in an external data file (how models over 2 GB are stored).
const extW = gaussian(r, 256 * 256, 0.06);
writeFileSync(path.join(MODELS, 'projection.weights'), new Uint8Array(extW.buffer));
write(
  'projection_external.onnx',
  model(
    {
      name: 'projection',
      node: [node('MatMul', ['x', 'proj.weight'], ['y'], '/proj/MatMul')],
      initializer: [externalTensor('proj.weight', DT.float32, [256, 256], 'projection.weights', 0, 256 * 256 * 4)],
      input: [value('x', DT.float32, ['batch', 256])],
      output: [value('y', DT.float32, ['batch', 256])],
    },
    { producerName: 'quantlens-demo', producerVersion: '0.1' },
  ),
);

// A truncated download: shows the error view and the Problems entry.
const whole = model({
  name: 'truncated',
  node: [node('MatMul', ['x', 'w'], ['y'], '/MatMul')],
  initializer: [floatTensor('w', [64, 64], gaussian(r, 4096, 0.1))],
  input: [value('x', DT.float32, [1, 64])],
  output: [value('y', DT.float32, [1, 64])],
});
write('truncated_download.onnx', whole.subarray(0, Math.floor(whole.length / 2)));
console.log(`[demo] wrote ${MODELS}`);
