import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { consumersByTensor } from '../../src/core/onnx/consumers';
import { decodeModel } from '../../src/core/onnx/decode';
import { collectWeights } from '../../src/core/onnx/weights';
import { planWeight } from '../../src/core/quant/roles';

const MODELS = path.join(__dirname, '..', 'fixtures', 'models');

/** name -> [role, quantizable, layout as "rows x cols @ axis" or '-', layers as "node:op:input"]. */
function plans(file: string): Record<string, [string, boolean, string, string]> {
  const bytes = readFileSync(path.join(MODELS, file));
  const model = decodeModel(bytes);
  const consumers = consumersByTensor(model);
  return Object.fromEntries(
    collectWeights(model, bytes).map((w) => {
      const p = planWeight(w, consumers);
      const layout = p.layout ? `${p.layout.rows}x${p.layout.cols}@${p.layout.channelAxis}` : '-';
      return [w.name, [p.role, p.quantizable, layout, p.layers.map((l) => `${l.node}:${l.op}:${l.input}`).join(',')]];
    }),
  );
}

describe('weight roles, labels and quantization layouts', () => {
  it('MatMul weights: channels are the output columns, blocks run along K', () => {
    assert.deepEqual(plans('mlp.onnx'), {
      'fc1.weight': ['weight', true, '16x32@1', '/fc1/MatMul:MatMul:1'],
      'fc1.bias': ['bias', false, '-', '/fc1/Add:Add:1'],
      'fc2.weight': ['weight', true, '32x10@1', '/fc2/MatMul:MatMul:1'],
      'fc2.bias': ['bias', false, '-', '/fc2/Add:Add:1'],
    });
  });
  it('Conv weights: output channels, blocks along C*kh*kw', () => {
    const p = plans('convnet.onnx');
    assert.deepEqual(p['conv1.weight'], ['weight', true, '4x27@0', '/conv1/Conv:Conv:1']);
    assert.deepEqual(p['conv2.weight'], ['weight', true, '8x36@0', '/conv2/Conv:Conv:1']);
    assert.deepEqual(p['conv2.bias'], ['bias', false, '-', '/conv2/Conv:Conv:2']);
  });
  it('Gemm with transB=1: channels are rows', () => {
    assert.deepEqual(plans('gemm_transb.onnx')['fc.weight'], ['weight', true, '4x8@0', '/fc/Gemm:Gemm:1']);
  });
  it('Constant-node weights and shapes', () => {
    assert.deepEqual(plans('constant_weights.onnx'), {
      W: ['weight', true, '6x4@1', '/proj/MatMul:MatMul:1'],
      b: ['bias', false, '-', '/proj/Add:Add:1'],
      shape: ['shape', false, '-', '/reshape/Reshape:Reshape:1'],
    });
  });
  it('fp16 weights are followed through Cast to the layer', () => {
    assert.deepEqual(plans('fp16_weights.onnx')['fc.weight'], ['weight', true, '8x8@1', '/fc/MatMul:MatMul:1']);
  });
  it('already-quantized weights keep their stored role, labelled with the layer, analysed with its layout', () => {
    assert.deepEqual(plans('int8_qdq.onnx'), {
      'fc.weight_quantized': ['quantized', true, '8x4@1', '/fc/MatMul:MatMul:1'],
      'fc.weight_scale': ['scale', false, '-', '/fc/DequantizeLinear:DequantizeLinear:1'],
      'fc.weight_zero_point': ['zero-point', false, '-', '/fc/DequantizeLinear:DequantizeLinear:2'],
    });
    assert.deepEqual(plans('matmulnbits_4bit.onnx'), {
      // The packed [N, blocks, blob] bytes have no MatMul layout; the analysis plan takes it from MatMulNBits.
      'fc.qweight': ['quantized', true, '-', '/fc/MatMulNBits:MatMulNBits:1'],
      'fc.scales': ['scale', false, '-', '/fc/MatMulNBits:MatMulNBits:2'],
    });
  });
  it('weights inside subgraphs get their subgraph consumers', () => {
    assert.deepEqual(plans('if_subgraph.onnx')['then.scale'], ['other', false, '-', '/then/Mul:Mul:1']);
  });
});
