/**
 * ConvTranspose weights [C_in, C_out/group, k...] have their output channels on axis 1: QuantLens analyses them
 * per output channel, the axis onnxruntime's per-axis QuantizeLinear uses (axis = 1) for them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { intParams } from '../../src/core/quant/fakeQuant';
import { parseScheme, type IntScheme } from '../../src/core/quant/schemes';
import { readModelForAnalysis, taskFor } from '../../src/node/analysisPlan';
import { runAnalysisTask } from '../../src/node/analysisTask';
import { DT, floatTensor, gaussian, model, node, rawTensor, rng, value } from '../fixtures/onnxBuilder';

const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-convt-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const [CIN, COUT, KH, KW] = [3, 5, 2, 2];

describe('ConvTranspose weights', () => {
  it('are analysed per output channel (axis 1), matching onnxruntime per-axis QDQ with axis 1', async () => {
    const w = gaussian(rng(3), CIN * COUT * KH * KW, 0.1);
    // Channel 2 gets much larger weights: per-channel scales must follow axis 1 for its SQNR to stay high.
    for (let i = 0; i < CIN; i++) for (let k = 0; k < KH * KW; k++) w[(i * COUT + 2) * KH * KW + k] *= 50;
    const file = path.join(dir, 'convt.onnx');
    writeFileSync(
      file,
      model({
        node: [node('ConvTranspose', ['x', 'W'], ['y'], '/up/ConvTranspose')],
        initializer: [floatTensor('W', [CIN, COUT, KH, KW], w)],
        input: [value('x', DT.float32, [1, CIN, 4, 4])],
        output: [value('y', DT.float32, [1, COUT, 5, 5])],
      }),
    );
    const { plan } = await readModelForAnalysis(file);
    const weight = plan[0];
    assert.deepEqual(
      [weight.role, weight.quantizable, weight.layout],
      ['weight', true, { rows: COUT, cols: CIN * KH * KW, channelAxis: 0 }],
    );
    const analysis = runAnalysisTask(taskFor(file, weight, ['int8-channel'], 16)!).analysis;
    const grid = analysis.schemes['int8-channel'].grid;
    assert.deepEqual([grid.channels, grid.blocks], [COUT, 1]);

    // onnxruntime: QuantizeLinear -> DequantizeLinear along axis 1 of the weight, with the scales QuantLens chose.
    const transposed = new Float32Array(w.length);
    for (let i = 0; i < CIN; i++)
      for (let c = 0; c < COUT; c++)
        for (let k = 0; k < KH * KW; k++) transposed[(c * CIN + i) * KH * KW + k] = w[(i * COUT + c) * KH * KW + k];
    const p = intParams(transposed, weight.layout!, parseScheme('int8-channel') as IntScheme);
    const qdq = model(
      {
        node: [
          node('QuantizeLinear', ['x', 's', 'zp'], ['q'], 'q', { axis: 1 }),
          node('DequantizeLinear', ['q', 's', 'zp'], ['y'], 'dq', { axis: 1 }),
        ],
        initializer: [floatTensor('s', [COUT], p.scales), rawTensor('zp', DT.int8, [COUT], new Int8Array(COUT))],
        input: [value('x', DT.float32, [CIN, COUT, KH, KW])],
        output: [value('y', DT.float32, [CIN, COUT, KH, KW])],
      },
      { irVersion: 10, opsets: [['', 21]] },
    );
    const session = await ort.InferenceSession.create(qdq);
    const y = (await session.run({ x: new ort.Tensor('float32', w, [CIN, COUT, KH, KW]) })).y.data as Float32Array;
    await session.release();
    for (let c = 0; c < COUT; c++) {
      let signal = 0;
      let noise = 0;
      for (let i = 0; i < CIN; i++) {
        for (let k = 0; k < KH * KW; k++) {
          const j = (i * COUT + c) * KH * KW + k;
          signal += w[j] * w[j];
          noise += (w[j] - y[j]) ** 2;
        }
      }
      const expected = 10 * Math.log10(signal / noise);
      assert.ok(
        Math.abs(grid.sqnrDb[c] - expected) < 1e-9,
        `channel ${c}: ${grid.sqnrDb[c]} vs onnxruntime ${expected}`,
      );
    }
  });
});
