/** Activation site selection follows onnxruntime's QDQ quantizer conventions. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { onnx } from 'onnx-proto';
import { activationSites } from '../../src/core/quant/activationSites';
import { siteGraphOf } from '../../src/core/onnx/siteGraph';
import { DT, floatTensor, model, node, value } from '../fixtures/onnxBuilder';

const f = (n: number): Float32Array => new Float32Array(n);

/** x -> Conv -> Relu -> MaxPool -> Flatten -> Gemm -> Softmax; a shape path (Shape -> Gather) on the side. */
function cnn(): onnx.IModelProto {
  const bytes = model({
    node: [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], 'conv1', { kernel_shape: [3, 3] }),
      node('Relu', ['c1'], ['r1'], 'relu1'),
      node('MaxPool', ['r1'], ['p1'], 'pool1', { kernel_shape: [2, 2] }),
      node('Flatten', ['p1'], ['fl'], 'flatten'),
      node('Gemm', ['fl', 'w2', 'b2'], ['logits'], 'fc', { transB: 1 }),
      node('Softmax', ['logits'], ['prob'], 'softmax'),
      node('Shape', ['x'], ['shape'], 'shape'),
      node('Gather', ['shape', 'idx'], ['batch'], 'gather'),
    ],
    initializer: [
      floatTensor('w1', [4, 1, 3, 3], f(36)),
      floatTensor('b1', [4], f(4)),
      floatTensor('w2', [10, 4], f(40)),
      floatTensor('b2', [10], f(10)),
      { name: 'idx', dataType: DT.int64, dims: [], int64Data: [0] },
    ],
    input: [value('x', DT.float32, ['N', 1, 6, 6])],
    output: [
      value('logits', DT.float32, ['N', 10]),
      value('prob', DT.float32, ['N', 10]),
      value('batch', DT.int64, []),
    ],
  });
  return onnx.ModelProto.decode(bytes);
}

describe('activation sites', () => {
  it('CNN: input, Relu folded into the Conv output, MaxPool sharing its input scale, Gemm input and output', () => {
    const sites = activationSites(siteGraphOf(cnn()));
    assert.deepEqual(
      sites.map((s) => [s.tensor, s.layer, s.op, s.shareWith ?? '']),
      [
        ['x', 'conv1', 'Conv', ''],
        ['r1', 'pool1', 'MaxPool', ''],
        ['p1', 'pool1', 'MaxPool', 'r1'],
        ['fl', 'fc', 'Gemm', ''],
        ['logits', 'fc', 'Gemm', ''],
      ],
    );
    assert.deepEqual(sites[0].consumers, ['conv1', 'shape']);
    // The layer whose output each one is (through the folded Relu and the MaxPool): what a plan without an entry
    // for the reading node (pool1) follows.
    assert.deepEqual(
      sites.map((s) => s.producer ?? ''),
      ['', 'conv1', 'conv1', 'flatten', 'fc'],
    );
  });

  it('symmetric activations keep the Relu and quantize the Conv output too', () => {
    const sites = activationSites(siteGraphOf(cnn()), { symmetric: true });
    assert.deepEqual(
      sites.map((s) => s.tensor),
      ['x', 'c1', 'r1', 'p1', 'fl', 'logits'],
    );
  });

  it('graph inputs and outputs are configurable; exclude keeps nodes and tensors float', () => {
    const graph = siteGraphOf(cnn());
    assert.deepEqual(
      activationSites(graph, { inputs: false, outputs: false }).map((s) => s.tensor),
      ['r1', 'p1', 'fl'],
    );
    assert.deepEqual(
      activationSites(graph, { exclude: ['conv1', 'logits'] }).map((s) => s.tensor),
      ['fl'],
    );
    // An excluded layer's input stays float even where a folded Relu would quantize it.
    assert.deepEqual(
      activationSites(graph, { exclude: ['pool1'] }).map((s) => s.tensor),
      ['x', 'fl', 'logits'],
    );
  });

  it("Softmax stays float (its tensors are quantized only as the MatMuls' output and input); a MatMul quantizes both activation inputs", () => {
    const bytes = model({
      node: [
        node('MatMul', ['a', 'b'], ['s'], 'scores'),
        node('Softmax', ['s'], ['p'], 'softmax'),
        node('MatMul', ['p', 'w'], ['y'], 'proj'),
      ],
      initializer: [floatTensor('w', [4, 4], f(16))],
      input: [value('a', DT.float32, [4, 4]), value('b', DT.float32, [4, 4])],
      output: [value('y', DT.float32, [4, 4])],
    });
    const graph = siteGraphOf(onnx.ModelProto.decode(bytes));
    assert.deepEqual(
      activationSites(graph).map((s) => s.tensor),
      ['a', 'b', 's', 'p', 'y'],
    );
    assert.deepEqual(
      activationSites(graph, { inputs: false }).map((s) => [s.tensor, s.layer]),
      [
        ['s', 'scores'],
        ['p', 'proj'],
        ['y', 'proj'],
      ],
    );
  });
});
