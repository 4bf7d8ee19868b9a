/**
 * Issue 17 findings 3-5 on the engine side: the layer table's "#" is graph order (a topological order, subgraphs in
 * place), weights are followed through shape-only ops to their layer, recurrent weights get their layout, layers a
 * kind a person can read, and every weight not analysed says why.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { onnx } from 'onnx-proto';
import { consumersByTensor } from '../../src/core/onnx/consumers';
import { decodeModel } from '../../src/core/onnx/decode';
import { graphOrder, nodeKey, topologicalIndices } from '../../src/core/onnx/graphOrder';
import { LayerKinds } from '../../src/core/onnx/layerKinds';
import { collectWeights } from '../../src/core/onnx/weights';
import { channelGeometry, channelLabel, layerWeightLayout, scaleGroups } from '../../src/core/quant/layout';
import { consumerPaths, planWeight } from '../../src/core/quant/roles';
import { parseScheme } from '../../src/core/quant/schemes';
import { notAnalysedLine, notAnalysedSummary, shortLayerName } from '../../src/core/view/weightInfo';
import { heatmapLabel } from '../../src/core/view/modelHeatmap';
import { readModelForAnalysis } from '../../src/node/analysisPlan';
import { floatTensor, node } from '../fixtures/onnxBuilder';

const MODELS = path.join(__dirname, '..', 'fixtures', 'models');
const n = (op: string, inputs: string[], outputs: string[], name: string): onnx.INodeProto =>
  node(op, inputs, outputs, name);

describe('graph order', () => {
  it('keeps a valid file order as it is', () => {
    const g = { node: [n('Relu', ['x'], ['a'], 'a'), n('Relu', ['a'], ['b'], 'b'), n('Relu', ['x'], ['c'], 'c')] };
    assert.deepEqual(topologicalIndices(g), [0, 1, 2]);
  });
  it('puts producers before consumers when the file does not (ties by file position)', () => {
    const g = {
      node: [
        n('Add', ['b', 'c'], ['d'], 'd'),
        n('Relu', ['a'], ['b'], 'b'),
        n('Relu', ['x'], ['a'], 'a'),
        n('Relu', ['x'], ['c'], 'c'),
      ],
    };
    assert.deepEqual(topologicalIndices(g), [2, 1, 3, 0]);
  });
  it('a cycle: what Kahn cannot place follows in file order, every node once', () => {
    const g = {
      node: [n('Relu', ['b'], ['a'], 'a'), n('Relu', ['a'], ['b'], 'b'), n('Relu', ['x'], ['c'], 'c')],
    };
    assert.deepEqual(topologicalIndices(g), [2, 0, 1]);
    const self = { node: [n('Add', ['a', 'x'], ['a'], 'a')] };
    assert.deepEqual(topologicalIndices(self), [0]);
  });
  it('a subgraph waits for the outer values it reads, and its nodes come in place of its owner', () => {
    const thenBranch = { node: [n('Mul', ['late', 'w'], ['t'], 'then/Mul')], output: [{ name: 't' }] };
    const elseBranch = { node: [n('Neg', ['late'], ['e'], 'else/Neg')], output: [{ name: 'e' }] };
    const model: onnx.IModelProto = {
      graph: {
        node: [
          node('If', ['cond'], ['y'], 'if', { then_branch: thenBranch, else_branch: elseBranch }),
          n('Relu', ['x'], ['late'], 'producer'),
          n('Relu', ['y'], ['z'], 'after'),
        ],
      },
    };
    assert.deepEqual(topologicalIndices(model.graph!), [1, 0, 2]);
    const order = graphOrder(model);
    const at = (graph: string, i: number) => order.get(nodeKey(graph, i));
    assert.deepEqual(
      [at('main', 1), at('main', 0), at('if/then_branch', 0), at('if/else_branch', 0), at('main', 2)],
      [0, 1, 2, 3, 4],
    );
  });
  it('is linear-ish on a long chain stored backwards (20,000 nodes)', () => {
    const nodes = Array.from({ length: 20000 }, (_, i) => n('Relu', [`t${i}`], [`t${i + 1}`], `n${i}`)).reverse();
    const t0 = performance.now();
    const order = topologicalIndices({ node: nodes });
    assert.equal(order[0], 19999);
    assert.equal(order[19999], 0);
    assert.ok(performance.now() - t0 < 2000);
  });
  it('rows of a torch export follow the graph, not the initializers (norms and biases were first)', async () => {
    const r = await readModelForAnalysis(path.join(MODELS, 'torch_block.onnx'));
    assert.deepEqual(
      r.plan.map((w) => w.name),
      [
        'embed.weight',
        'blocks.0.norm1.weight',
        'blocks.0.norm1.bias',
        'onnx::MatMul_257',
        'blocks.0.attn.q.bias',
        'onnx::MatMul_258',
        'onnx::MatMul_259',
        'onnx::MatMul_260',
        'blocks.0.norm2.weight',
        'blocks.0.norm2.bias',
        'onnx::MatMul_261',
        'blocks.0.mlp.fc1.bias',
        'onnx::MatMul_262',
        'onnx::MatMul_263',
      ],
    );
  });
});

describe('weights through shape-only ops', () => {
  const model = (file: string) => {
    const bytes = readFileSync(path.join(MODELS, file));
    const m = decodeModel(bytes);
    return { m, consumers: consumersByTensor(m), weights: collectWeights(m, bytes) };
  };
  it('an LSTM fed through Concat keeps a channel per gate row; through Slice it is analysed per tensor, saying why', () => {
    const { consumers, weights } = model('paddle_lstm.onnx');
    const byName = new Map(weights.map((w) => [w.name, planWeight(w, consumers)]));
    const ih = byName.get('p2o.lstm.w_ih_0')!;
    assert.equal(ih.role, 'weight');
    assert.equal(ih.quantizable, true);
    assert.deepEqual(ih.layout, { rows: 4, cols: 3, channelAxis: 0 });
    const hh = byName.get('p2o.lstm.w_hh')!;
    assert.equal(hh.quantizable, true);
    assert.equal(hh.layout, undefined);
    assert.match(hh.reason ?? '', /through Slice.*per tensor/);
    assert.deepEqual(
      consumerPaths('p2o.lstm.w_hh', consumers).map((p) => [p.consumer.op, p.consumer.input, p.via]),
      [['LSTM', 2, ['Slice']]],
    );
    assert.equal(byName.get('p2o.lstm.b')!.role, 'bias');
    assert.equal(byName.get('p2o.lstm.b')!.reason, 'biases stay in float');
    assert.equal(byName.get('p2o.Slice.0.starts')!.role, 'shape');
  });
  it('a 2-D Transpose maps the channel axis: MatMul output columns are the stored rows', () => {
    const { consumers, weights } = model('paddle_lstm.onnx');
    const fc = planWeight(
      weights.find((w) => w.name === 'p2o.fc.w')!,
      consumers,
    );
    assert.deepEqual(fc.layout, { rows: 3, cols: 2, channelAxis: 0 });
    assert.equal(fc.reason, undefined);
  });
  it('the walk is bounded on a cycle of shape ops', () => {
    const consumers = consumersByTensor({
      graph: {
        node: [n('Reshape', ['w', 's'], ['a'], 'r1'), n('Reshape', ['a', 's'], ['w'], 'r2')],
        initializer: [floatTensor('w', [2, 2], new Float32Array(4))],
      },
    });
    assert.ok(consumerPaths('w', consumers).length <= 2);
  });
});

describe('recurrent weight layout', () => {
  it('W / R [dirs, gates x hidden, in]: one channel per row, blocks along the last axis; B is not a layer weight', () => {
    // LSTM, bidirectional, hidden 3 (4 gates), input 5.
    const w = layerWeightLayout('LSTM', 1, [2, 12, 5], {})!;
    assert.deepEqual(w.layout, { rows: 24, cols: 5, channelAxis: 0 });
    assert.deepEqual(channelGeometry(120, w.layout), { channels: 24, reduction: 5 });
    assert.deepEqual(layerWeightLayout('GRU', 2, [1, 9, 3], {})!.layout, { rows: 9, cols: 3, channelAxis: 0 });
    assert.deepEqual(layerWeightLayout('RNN', 1, [1, 4, 64], {})!.layout, { rows: 4, cols: 64, channelAxis: 0 });
    assert.equal(layerWeightLayout('LSTM', 3, [2, 24], {}), undefined);
    assert.equal(layerWeightLayout('LSTM', 1, [12, 5], {}), undefined);
    const block32 = parseScheme('int4-block32');
    assert.ok(block32.kind === 'int');
    // 4 rows x ceil(64 / 32) blocks.
    if (block32.kind === 'int') assert.equal(scaleGroups(block32, 256, { rows: 4, cols: 64, channelAxis: 0 }), 8);
    assert.equal(channelLabel('LSTM', 0), 'gate row');
  });
});

describe('layer kinds', () => {
  const kinds = (file: string): Record<string, string> => {
    const bytes = readFileSync(path.join(MODELS, file));
    const m = decodeModel(bytes);
    const consumers = consumersByTensor(m);
    const k = new LayerKinds(m);
    return Object.fromEntries(
      collectWeights(m, bytes).map((w) => [w.name, k.ofWeight(planWeight(w, consumers).layers)]),
    );
  };
  it('a torch transformer block: embedding, norms, q / k / v / output, MLP up / down, classifier head', () => {
    const k = kinds('torch_block.onnx');
    assert.equal(k['embed.weight'], 'embedding');
    assert.equal(k['blocks.0.norm1.weight'], 'norm');
    assert.equal(k['onnx::MatMul_257'], 'attention-q');
    assert.equal(k['blocks.0.attn.q.bias'], 'attention-q');
    assert.equal(k['onnx::MatMul_258'], 'attention-k');
    assert.equal(k['onnx::MatMul_259'], 'attention-v');
    assert.equal(k['onnx::MatMul_260'], 'attention-output');
    assert.equal(k['onnx::MatMul_261'], 'mlp-up');
    assert.equal(k['onnx::MatMul_262'], 'mlp-down');
    assert.equal(k['onnx::MatMul_263'], 'classifier');
  });
  it('Paddle names: recurrent LSTM weights, classifier heads inside If branches; conv; unknown otherwise', () => {
    const k = kinds('paddle_lstm.onnx');
    assert.equal(k['p2o.lstm.w_ih_0'], 'recurrent');
    assert.equal(k['p2o.lstm.b'], 'recurrent');
    assert.equal(k['then.w'], 'classifier');
    assert.equal(k['else.w'], 'classifier');
    assert.equal(k['p2o.fc.w'], 'unknown');
    assert.equal(kinds('convnet.onnx')['conv1.weight'], 'conv');
  });
  it('a fused qkv projection split after the MatMul, and a decomposed LayerNorm (ReduceMean ... Mul, Add)', () => {
    const m: onnx.IModelProto = {
      graph: {
        node: [
          n('ReduceMean', ['x'], ['mu'], 'ln/ReduceMean'),
          n('Sub', ['x', 'mu'], ['xc'], 'ln/Sub'),
          n('Mul', ['xc', 'gamma'], ['xn'], 'ln/Mul'),
          n('MatMul', ['xn', 'qkv.w'], ['qkv'], 'attn/qkv/MatMul'),
          n('Split', ['qkv'], ['q', 'k', 'v'], 'attn/Split'),
          n('Transpose', ['k'], ['kt'], 'attn/Transpose'),
          n('MatMul', ['q', 'kt'], ['s'], 'attn/MatMul'),
          n('Softmax', ['s'], ['p'], 'attn/Softmax'),
          n('MatMul', ['p', 'v'], ['c'], 'attn/MatMul_1'),
          n('Relu', ['c'], ['y'], 'act'),
        ],
        output: [{ name: 'y' }],
      },
    };
    const consumers = consumersByTensor(m);
    const k = new LayerKinds(m);
    assert.equal(k.ofWeight(consumers.get('qkv.w')!), 'attention-qkv');
    assert.equal(k.ofWeight(consumers.get('gamma')!), 'norm');
  });
  it('a constant read as the indices of a Gather is no embedding; the table it reads is', () => {
    const m: onnx.IModelProto = {
      graph: {
        node: [
          n('Gather', ['wte', 'ids'], ['e'], '/Gather'),
          n('Gather', ['e', '/Constant_output_0'], ['y'], '/Gather_1'),
        ],
        output: [{ name: 'y' }],
      },
    };
    const consumers = consumersByTensor(m);
    const k = new LayerKinds(m);
    assert.equal(k.ofWeight(consumers.get('wte')!), 'embedding');
    assert.equal(k.ofWeight(consumers.get('/Constant_output_0')!), 'unknown');
  });
});

describe('labels and the not-analysed summary', () => {
  it('If-branch prefixes are shortened; the heatmap label keeps both ends and shows the kind', () => {
    assert.equal(shortLayerName('If_0_else_branch__Inline_0__/x/MatMul'), 'else / x/MatMul');
    assert.equal(shortLayerName('If_0_then_branch__/x/MatMul'), 'then / x/MatMul');
    assert.equal(shortLayerName('/blocks/blocks.0/attn/qkv/MatMul'), '/blocks/blocks.0/attn/qkv/MatMul');
    const w = {
      name: 'then.w',
      layers: [{ node: 'If_0_then_branch__Inline_0__/head/MatMul', op: 'MatMul', input: 1 }],
      dtype: 'float32',
      shape: [3, 2],
      role: 'weight' as const,
      kind: 'classifier' as const,
      quantizable: true,
    };
    assert.equal(heatmapLabel(w), 'then / head/MatMul (classifier) · then.w');
  });
  it('groups what is not analysed by reason, with its share of the parameters', async () => {
    const r = await readModelForAnalysis(path.join(MODELS, 'torch_block.onnx'));
    const summary = notAnalysedSummary(r.plan);
    assert.deepEqual(summary, r.overview.notAnalysed);
    assert.deepEqual(summary.map(notAnalysedLine), [
      '4 weights, 3.9% of parameters, not analysed: normalization parameters stay in float',
      '2 weights, 2.9% of parameters, not analysed: biases stay in float',
    ]);
    const lstm = await readModelForAnalysis(path.join(MODELS, 'paddle_lstm.onnx'));
    assert.ok(
      lstm.plan.every((w) => w.quantizable || w.reason),
      'every weight not analysed says why',
    );
    assert.deepEqual(
      lstm.overview.notAnalysed?.map((s) => [s.reason, s.weights, s.parameters]),
      [
        ['biases stay in float', 1, 16],
        ['shape or index data', 4, 5],
      ],
    );
  });
});
