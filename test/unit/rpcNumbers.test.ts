/**
 * One encoding of non-finite numbers ("Infinity", "-Infinity", "NaN") across JSON: webview messages keep any
 * string a string, and the results file revives exactly its numeric fields (checked on a real results file).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { finiteReplacer, parseResults, RESULTS_NUMBERS, type EvalResults } from '../../src/core/eval/results';
import { markNumbers, reviveNumbers, unmarkNumbers } from '../../src/core/rpc/numbers';
import { evaluate } from '../../src/node/eval/evaluate';
import { decodeNumbers, encodeNumbers } from '../../src/wire';

const DEMO = path.join(__dirname, '..', '..', 'demo', 'mnist');
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-numbers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Shape = 'number' | { [key: string]: Shape } | undefined;

/** Every leaf of `value` with whether the shape puts a number there: [path, value, numeric]. */
function leaves(value: unknown, shape: Shape, at = ''): [string, unknown, boolean][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, shape, `${at}/${i}`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => {
      const inner =
        shape === undefined || shape === 'number' ? undefined : Object.hasOwn(shape, k) ? shape[k] : shape['*'];
      return leaves(v, inner, `${at}/${k}`);
    });
  }
  return [[at, value, shape === 'number']];
}

describe('non-finite numbers across JSON', () => {
  it('webview messages: marked numbers come back, strings stay strings, typed arrays pass untouched', () => {
    const typed = new Float32Array([Infinity]);
    const message = { a: [Infinity, -Infinity, NaN, 1], name: 'NaN', label: 'Infinity', t: typed, odd: { $num: 'x' } };
    const wire = JSON.parse(JSON.stringify(encodeNumbers(message))) as unknown;
    assert.deepEqual(wire, {
      a: [{ $num: 'Infinity' }, { $num: '-Infinity' }, { $num: 'NaN' }, 1],
      name: 'NaN',
      label: 'Infinity',
      t: { '0': null },
      odd: { $num: 'x' },
    });
    const back = decodeNumbers(wire) as typeof message;
    assert.deepEqual(back.a, [Infinity, -Infinity, NaN, 1]);
    assert.equal(back.name, 'NaN');
    assert.equal(back.label, 'Infinity');
    assert.deepEqual(back.odd, { $num: 'x' });
    assert.equal((markNumbers(message) as typeof message).t, typed);
    assert.equal(unmarkNumbers('NaN'), 'NaN');
  });

  it('a shape revives the texts only where it says number', () => {
    const value = { n: 'Infinity', name: 'NaN', list: ['NaN', '-Infinity', 'x'], byKey: { NaN: '-Infinity' } };
    const shape = { n: 'number', list: 'number', byKey: { '*': 'number' } } as const;
    assert.deepEqual(reviveNumbers(value, shape as never), {
      n: Infinity,
      name: 'NaN',
      list: [NaN, -Infinity, 'x'],
      byKey: { NaN: -Infinity },
    });
  });

  it('results file: numeric fields revive, names, labels, ids and the spec copy that read "NaN" stay strings', () => {
    const metrics = { n: 3, accuracy: NaN, outputSqnrDb: Infinity, varianceRatio: 1, kl: -Infinity };
    const results = {
      format: 'quantlens-eval-results',
      spec: { file: 'NaN.quantlens.json', sha256: 'Infinity', content: { label: 'NaN', variants: ['Infinity'] } },
      slices: [{ name: 'NaN', n: 3 }],
      variants: [
        { id: 'NaN', label: 'Infinity', kind: 'scheme', weightBytes: 10, metrics: { NaN: metrics }, violations: [] },
      ],
      flags: [
        { weight: '-Infinity', layer: 'NaN', scheme: 'int4', slice: 'NaN', effect: { kl: Infinity }, message: 'NaN' },
      ],
    } as unknown as EvalResults;
    const text = JSON.stringify(results, finiteReplacer, 2);
    assert.match(text, /"outputSqnrDb": "Infinity"/);
    assert.match(text, /"accuracy": "NaN"/);
    assert.deepEqual(parseResults(text), results);
  });

  it('RESULTS_NUMBERS matches a real results file: every number is a numeric field, no string is', async () => {
    const spec = path.join(dir, 'digits.quantlens.json');
    writeFileSync(
      spec,
      JSON.stringify({
        model: path.join(DEMO, 'mnist_mlp.onnx'),
        task: { type: 'classification', output: 'logits' },
        data: [
          { path: path.join(DEMO, 'images.idx.gz'), as: 'image' },
          { path: path.join(DEMO, 'labels.idx.gz'), as: 'label' },
          { path: path.join(DEMO, 'fields.csv') },
        ],
        inputs: { image: { field: 'image', shape: [1, 28, 28], scale: 1 / 255 } },
        label: 'label',
        slices: [{ by: 'label', name: 'digit' }],
        variants: ['fp16', 'int3-block32'],
        budget: { accuracyDrop: 0.5, kl: 0.01 },
        sweep: { granularity: 'channel', bits: [8, 2] },
        sensitivity: { leaveOneOut: true },
        limit: 300,
      }),
    );
    const results = await evaluate(spec);
    const all = leaves(JSON.parse(JSON.stringify(results, finiteReplacer)), RESULTS_NUMBERS as Shape).filter(
      ([p]) => !p.startsWith('/spec/content/'),
    );
    const wrong = all.filter(([, v, numeric]) => (typeof v === 'number') !== numeric && !(typeof v === 'boolean'));
    assert.deepEqual(
      wrong.filter(
        ([, v, numeric]) => !(numeric && typeof v === 'string' && ['Infinity', '-Infinity', 'NaN'].includes(v)),
      ),
      [],
    );
    // The fields the budget and the sensitivity fill are there, and some are not finite (fp32 against itself).
    // 300 samples: the layers' drops (one digit of ~30 flipped) are within noise, so they are not flags.
    const noiseFlag = ['/flagsWithinNoise/0/effect/kl', '/flagsWithinNoise/0/samplesNeeded'];
    for (const needed of ['/variants/0/metrics/all/outputSqnrDb', '/sensitivity/layers/0/rank', ...noiseFlag])
      assert.ok(
        all.some(([p]) => p === needed),
        needed,
      );
    assert.ok(all.some(([, v]) => v === 'Infinity'));
    // JSON has no -0: the only difference a round trip may make.
    const noNegativeZero = (v: unknown): unknown =>
      Object.is(v, -0)
        ? 0
        : Array.isArray(v)
          ? v.map(noNegativeZero)
          : v !== null && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, noNegativeZero(x)]))
            : v;
    assert.deepEqual(parseResults(JSON.stringify(results, finiteReplacer)), noNegativeZero(results));
  });
});
