/** The pure parts of the latency search: savings with their spread, additive layer costs, within-noise marks. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  costNoiseMarks,
  latencyLayers,
  latencyOfRounds,
  meetsMaxCost,
  savingOfRounds,
  type MsSpread,
} from '../../src/core/search/costNoise';
import { assignmentCost, startScheme } from '../../src/core/search/moves';

const spread = (ms: number, low: number, high: number): MsSpread => ({ ms, low, high });

describe('latency costs', () => {
  it('a model latency: pooled median, lowest and highest round median', () => {
    const m = latencyOfRounds([
      [1, 2, 3],
      [3, 4, 5],
    ]);
    assert.deepEqual(m, { ms: 3, low: 2, high: 4 });
  });

  it('a saving pairs round k of fp32 with round k of the variant', () => {
    const fp32 = [
      [10, 10, 10],
      [12, 12, 12],
    ];
    // Round 1 of the variant saves 2 ms, round 2 saves 1 ms; pooled: median 11 of fp32 - median 9.5 of the variant.
    const variant = [
      [8, 8, 8],
      [11, 11, 11],
    ];
    const s = savingOfRounds(fp32, variant);
    assert.equal(s.low, 1);
    assert.equal(s.high, 2);
    assert.equal(s.ms, 11 - 9.5);
    assert.ok(s.low <= s.ms && s.ms <= s.high);
  });

  it('layer costs add up to fp32 minus the savings; slower or within-noise candidates are dropped', () => {
    const { layers, dropped } = latencyLayers(9, [
      {
        name: 'a',
        start: 'fp32',
        savings: new Map([
          ['int8', spread(2, 1.5, 2.5)],
          ['int4', spread(-1, -1.5, -0.5)],
        ]),
      },
      { name: 'b', start: 'fp32', savings: new Map([['int8', spread(0.5, -0.2, 0.7)]]) },
      { name: 'c', start: 'fp32', savings: new Map([['int8', spread(1, 0.5, 1.5)]]) },
    ]);
    assert.deepEqual(
      layers.map((l) => [l.name, Object.fromEntries(l.costs)]),
      [
        ['a', { fp32: 3, int8: 1 }],
        ['b', { fp32: 3 }],
        ['c', { fp32: 3, int8: 2 }],
      ],
    );
    assert.deepEqual(
      dropped.map((d) => `${d.layer}=${d.scheme}`),
      ['a=int4', 'b=int8'],
    );
    // The search starts from fp32 on every layer, and a plan's cost is fp32's minus its layers' savings.
    assert.deepEqual(
      layers.map((l) => startScheme(l)),
      ['fp32', 'fp32', 'fp32'],
    );
    assert.equal(assignmentCost(layers, new Map()), 9);
    assert.equal(
      assignmentCost(
        layers,
        new Map([
          ['a', 'int8'],
          ['c', 'int8'],
        ]),
      ),
      9 - 2 - 1,
    );
  });

  it('a layer never costs less than nothing: savings beyond its share are floored, no plan is predicted below 0 ms', () => {
    // The failure seen on the MNIST demo at 0.08 ms: three layers each "saving" more than a third of fp32.
    const { layers } = latencyLayers(0.0823, [
      { name: 'a', start: 'fp32', savings: new Map([['int4', spread(0.0435, 0.0221, 0.0902)]]) },
      { name: 'b', start: 'fp32', savings: new Map([['int4', spread(0.0363, 0.00934, 0.0941)]]) },
      { name: 'c', start: 'fp32', savings: new Map([['int4', spread(0.0126, 0.00327, 0.0211)]]) },
    ]);
    const all = new Map(layers.map((l) => [l.name, 'int4']));
    assert.deepEqual(
      layers.map((l) => l.costs.get('int4')),
      [0, 0, 0.0823 / 3 - 0.0126],
    );
    assert.ok(assignmentCost(layers, all) >= 0);
  });

  it('a start other than fp32 keeps its own cost; only candidates faster than it in every round stay', () => {
    const { layers, dropped } = latencyLayers(4, [
      {
        name: 'a',
        start: 'fp16',
        savings: new Map([
          ['fp16', spread(-1, -1.2, -0.8)],
          ['int8', spread(-0.5, -0.6, -0.4)],
          ['int4', spread(-1.1, -1.3, -0.9)],
        ]),
      },
    ]);
    assert.deepEqual(Object.fromEntries(layers[0].costs), { fp16: 5, int8: 4.5 });
    assert.deepEqual(
      dropped.map((d) => d.scheme),
      ['int4'],
    );
  });

  it('front points whose round ranges overlap a neighbour are within noise; the measured order is checked', () => {
    const marks = costNoiseMarks([
      { predicted: 1, measured: spread(5, 4.8, 5.2) },
      { predicted: 2, measured: spread(5.1, 5, 5.3) },
      { predicted: 3, measured: spread(7, 6.9, 7.1) },
      { predicted: 4, measured: spread(6, 5.9, 6.1) },
    ]);
    assert.deepEqual(
      marks.map((m) => m.withinNoise),
      [true, true, false, false],
    );
    assert.deepEqual(
      marks.map((m) => m.orderHolds),
      [true, true, true, false],
    );
    assert.deepEqual(costNoiseMarks([{ predicted: 1, measured: spread(1, 1, 1) }]), [
      { withinNoise: false, orderHolds: true },
    ]);
  });

  it('maxCost met in every round, in none, or within noise', () => {
    assert.equal(meetsMaxCost(spread(1, 0.9, 1.1), 1.2), 'yes');
    assert.equal(meetsMaxCost(spread(1, 0.9, 1.1), 0.8), 'no');
    assert.equal(meetsMaxCost(spread(1, 0.9, 1.1), 1), 'within noise');
  });
});
