/** Issue 20's view model: what each variant does to activations, the activation rows, findings, table column and detail. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  activationDetail,
  activationGrid,
  activationRange,
  rowActivations,
} from '../../src/core/view/activationDetail';
import {
  activationFindings,
  activationRows,
  calibrationText,
  clippingText,
  quantizesActivations,
  variantActivationTag,
  variantActivationText,
  weightSchemeOf,
} from '../../src/core/view/activationView';
import { LayerTable } from '../../src/core/view/layerTable';
import { columnGeometry, layerColumns } from '../../src/core/view/tableColumns';
import type { WeightInfo } from '../../src/core/view/weightInfo';
import type { EvalResults } from '../../src/core/eval/results';
import { activationResultsFixture, fixtureActivations, uint8Params } from '../fixtures/activationResults';

const r = activationResultsFixture();
const variant = (id: string): EvalResults['variants'][number] => r.variants.find((v) => v.id === id)!;

describe('activations in the results view (issue 20)', () => {
  it('every variant says whether it quantizes activations, and on which calibration', () => {
    assert.equal(variantActivationText(r, variant('fp32')), 'float reference');
    assert.equal(variantActivationText(r, variant('int8-channel')), 'weights only');
    assert.equal(
      variantActivationText(r, variant('w8a8')),
      'W8A8 · calibrated on 256 samples of a seeded split of the evaluation data (minmax, seed 7, disjoint from evaluation)',
    );
    assert.equal(
      calibrationText(r),
      'Activations calibrated on 256 samples of a seeded split of the evaluation data (minmax, seed 7); disjoint from the evaluation samples.',
    );
    const a = { bits: 8, signed: false, method: 'percentile' };
    const other = (id: string, kind: 'scheme' | 'plan' = 'scheme') =>
      ({ ...variant('w8a8'), id, kind, activations: a }) as EvalResults['variants'][number];
    assert.equal(variantActivationTag(other('int4-block32+a8-percentile')), 'W4A8');
    assert.equal(variantActivationTag(other('plan:mixed.qplan.json', 'plan')), 'A8');
    const withP = {
      ...r,
      calibration: { ...r.calibration, method: 'percentile', percentile: 99.999, disjoint: false },
    };
    assert.match(
      variantActivationText(withP as EvalResults, other('fp16+a8')),
      /^W16A8 · .*percentile 99\.999, seed 7, overlaps evaluation\)$/,
    );
  });

  it('results without activations: no calibration line, every variant weights only', () => {
    const old = { ...r, variants: r.variants.map((v) => ({ ...v, activations: null })) } as EvalResults;
    delete (old as { calibration?: unknown }).calibration;
    delete (old as { activations?: unknown }).activations;
    assert.equal(calibrationText(old), undefined);
    assert.deepEqual(
      old.variants.map((v) => variantActivationTag(v)),
      ['float reference', 'weights only', 'weights only'],
    );
    assert.deepEqual(activationRows(old), []);
  });

  it('activation rows worst first by the measured effect, with the budget verdict; findings name why', () => {
    const rows = activationRows(r);
    assert.deepEqual(
      rows.map((x) => [x.stat.layer, x.measured?.meetsBudget]),
      [
        ['/conv2/Conv', false],
        ['/conv1/Conv', true],
      ],
    );
    // conv2 alone: 0.88 vs 0.9 on all (2 pp), 0.75 vs 0.8 on dark (5 pp): the worst slice is dark.
    assert.equal(rows[0].effect, '-5.0 pp dark');
    const findings = activationFindings(r);
    assert.equal(findings.length, 1);
    assert.equal(findings[0].breaksBudget, true);
    assert.equal(
      findings[0].message,
      '8-bit activations of /conv2/Conv (/relu1/Relu_output_0): break the budget: -5.0 pp dark with only them quantized; ' +
        'clips 2.50% of the evaluation values; SQNR 17.4 dB alone; outlier channels (20.2x the median channel).',
    );
    // Without sensitivity: lowest SQNR alone first, flags only from the heuristics.
    const bare = { ...r, sensitivity: undefined } as EvalResults;
    assert.deepEqual(
      activationRows(bare).map((x) => x.stat.sqnrAloneDb),
      [17.4, 41.2],
    );
    assert.equal(activationFindings(bare)[0].breaksBudget, false);
    // Sensitivity without per-tensor statistics: the layer that broke the budget is still reported, at the
    // sensitivity scheme's bits.
    const noStats = { ...r, sensitivity: { ...r.sensitivity!, activationScheme: 'int8-channel+a16' } } as EvalResults;
    delete noStats.activations;
    assert.deepEqual(
      activationFindings(noStats).map((f) => [f.node, f.bits, f.breaksBudget, f.message]),
      [
        [
          '/conv2/Conv',
          16,
          true,
          '16-bit activations of /conv2/Conv: break the budget: -5.0 pp dark with only them quantized.',
        ],
      ],
    );
  });

  it('plan ids: the weight scheme and whether activations are quantized', () => {
    assert.equal(weightSchemeOf('w8a8'), 'int8-channel');
    assert.equal(weightSchemeOf('int4-block32+a8-percentile'), 'int4-block32');
    assert.equal(weightSchemeOf('int8-channel'), 'int8-channel');
    assert.deepEqual(['w8a8', 'int8-channel+a16', 'int8-channel', 'fp32', 'fp16'].map(quantizesActivations), [
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});

describe('activations in the inspector (issue 20)', () => {
  it('the grid of a calibrated activation: every integer level, saturating at qmin and qmax', () => {
    const [conv1] = fixtureActivations();
    const { scale, zeroPoint } = uint8Params(-1, 1);
    assert.equal(zeroPoint, 128); // 127.5 rounds half to even
    const g = activationGrid(conv1);
    assert.equal(g.levels.length, 256);
    for (let q = 0; q < 256; q++) assert.equal(g.levels[q], (q - 128) * scale);
    assert.equal(g.clipMin, -128 * scale);
    assert.equal(g.clipMax, 127 * scale);
    assert.deepEqual(activationRange(8, true), { qmin: -128, qmax: 127 });
    assert.deepEqual(activationRange(16, false), { qmin: 0, qmax: 65535 });
    const a16 = activationGrid({ bits: 16, signed: false, scale: 1 / 65535, zeroPoint: 0 });
    assert.equal(a16.levels.length, 0, '16 bits are finer than any histogram');
    assert.equal(a16.clipMax, 1);
  });

  it('the clipped share: tiny non-zero rates read "<0.001%" with their count, never "0.000%"; zero is "0%"', () => {
    assert.equal(clippingText(0), '0%');
    assert.equal(clippingText(0, 0), '0%');
    assert.equal(clippingText(1.7e-6, 3), '<0.001% (3 values)');
    assert.equal(clippingText(1.7e-6, 1), '<0.001% (1 value)');
    assert.equal(clippingText(1.7e-6), '<0.001%');
    assert.equal(clippingText(1.7e-6, 0), '<0.001%', 'no count when no bin lies wholly beyond the range');
    assert.equal(clippingText(0.0123, 40), '1.230% (40 values)');
    assert.equal(clippingText(1e-5), '0.001%');
    const conv2 = fixtureActivations()[1];
    const beyond = activationDetail(conv2).beyondGrid;
    assert.ok(conv2.clippingRate > 0 && beyond > 0);
    assert.match(clippingText(conv2.clippingRate, beyond), new RegExp(`\\(${beyond} values\\)$`));
  });

  it('the detail: values beyond the clipping range and the outlier channels', () => {
    const conv2 = fixtureActivations()[1];
    const d = activationDetail(conv2, ['other']);
    const h = conv2.histogram;
    const width = (h.max - h.min) / h.counts.length;
    let beyond = 0;
    for (let b = 0; b < h.counts.length; b++)
      if (h.min + b * width > (255 - conv2.zeroPoint) * conv2.scale) beyond += h.counts[b];
    assert.ok(beyond > 0);
    assert.equal(d.beyondGrid, beyond);
    assert.equal(d.channels.median, (0.45 + 0.5) / 2);
    assert.deepEqual(d.channels.outliers, [3]);
    assert.deepEqual(d.others, ['other']);
    assert.ok(d.histogram.counts instanceof Uint32Array);
  });

  it('the table: an activation column after the measured effect, on screen, filled on the layer’s weight row only', () => {
    const cols = layerColumns(['int8-channel', 'int4-block32'], 'int8-channel', 'a8');
    assert.deepEqual(
      cols.slice(0, 5).map((c) => c.key),
      ['index', 'layer', 'sensitivity', 'activation', 'sqnr:int8-channel'],
    );
    assert.equal(cols[3].title, 'Act. a8');
    const g = columnGeometry(cols, 1210);
    assert.ok(g.lefts[4] + g.widths[4] <= 1210, 'the first SQNR column still fits next to it');
    assert.equal(
      layerColumns(['int8-channel'], 'int8-channel').some((c) => c.key === 'activation'),
      false,
    );
    const w = (name: string, node: string, quantizable: boolean): WeightInfo =>
      ({
        name,
        layers: [{ node, op: 'Conv', input: quantizable ? 1 : 2 }],
        dtype: 'float32',
        shape: [4, 3, 3, 3],
        role: quantizable ? 'weight' : 'bias',
        quantizable,
      }) as WeightInfo;
    const table = new LayerTable();
    table.reset(
      [
        w('conv1.weight', '/conv1/Conv', true),
        w('conv1.bias', '/conv1/Conv', false),
        w('conv2.weight', '/conv2/Conv', true),
      ],
      ['int8-channel'],
    );
    const byLayer = rowActivations(r);
    table.setSensitivity(new Map(), byLayer);
    assert.equal(table.row(0).activation?.sqnrAloneDb, 41.2);
    assert.equal(table.row(1).activation, undefined, 'not on the bias row');
    assert.equal(table.row(2).activation?.breaksBudget, true);
    const sorted = table.query({ sort: 'activation', descending: false, text: '', op: '', quantizableOnly: false });
    assert.deepEqual(
      sorted.map((x) => x.name),
      ['conv2.weight', 'conv1.weight', 'conv1.bias'],
    );
    // Two activation inputs of one layer: the worst shows, the count says there are two.
    const two = {
      ...r,
      activations: [...fixtureActivations(), { ...fixtureActivations()[0], tensor: 'b', sqnrAloneDb: 30 }],
    };
    const conv1 = rowActivations(two as EvalResults).get('/conv1/Conv')!;
    assert.deepEqual([conv1.tensor, conv1.inputs], ['b', 2]);
  });
});
