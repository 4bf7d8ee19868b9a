/**
 * The evaluation engine on models and data built here: sensitivity ranking on a model with one fragile
 * layer, checks that fail before inference naming field and sample, the data formats, limit/seed, and the
 * child process (same numbers; a crash is an error).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { PNG } from 'pngjs';
import { SpecError } from '../../src/core/eval/spec';
import { readDataset } from '../../src/node/eval/data';
import { EvalProcessError, evaluateInChild } from '../../src/node/eval/evalClient';
import { evaluate, scoringWorkerPays } from '../../src/node/eval/evaluate';
import { npy } from '../fixtures/npy';
import { DT, floatTensor, gaussian, model, node, rng, value } from '../fixtures/onnxBuilder';

const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-eval-'));
const write = (name: string, content: string | Uint8Array): string => {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
};
const spec = (name: string, body: object): string => write(name, `${JSON.stringify(body, null, 2)}\n`);

// Two-layer classifier: fc1 [16, 16] carries one huge weight on input 0, which the data always sets to 0:
// it does not change the output, but forces a per-channel scale so large that int4 zeroes fc1's real weights.
const r = rng(11);
const N = 256;
const w1 = gaussian(r, 256, 0.3);
for (let j = 0; j < 16; j++) w1[j] = 400;
const w2 = gaussian(r, 64, 0.4);
const xs = Array.from({ length: N }, () =>
  Array.from(gaussian(r, 16, 1), (v, i) => (i === 0 ? 0 : Number(v.toFixed(4)))),
);
const forward = (x: number[]): number[] => {
  const h = Array.from({ length: 16 }, (_, j) =>
    Math.max(
      0,
      x.reduce((s, xi, i) => s + xi * w1[i * 16 + j], 0),
    ),
  );
  return Array.from({ length: 4 }, (_, k) => h.reduce((s, hj, j) => s + hj * w2[j * 4 + k], 0));
};
const labels = xs.map((x) => {
  const y = forward(x);
  return y.indexOf(Math.max(...y));
});

before(() => {
  write(
    'fragile.onnx',
    model({
      name: 'fragile',
      node: [
        node('MatMul', ['x', 'fc1.weight'], ['h'], '/fc1/MatMul'),
        node('Relu', ['h'], ['a'], '/act/Relu'),
        node('MatMul', ['a', 'fc2.weight'], ['logits'], '/fc2/MatMul'),
      ],
      initializer: [floatTensor('fc1.weight', [16, 16], w1), floatTensor('fc2.weight', [16, 4], w2)],
      input: [value('x', DT.float32, ['batch', 16])],
      output: [value('logits', DT.float32, ['batch', 4])],
    }),
  );
  write(
    'data.jsonl',
    xs
      .map((x, i) =>
        JSON.stringify({
          x,
          label: labels[i],
          group: i % 2 ? 'odd' : 'even',
          target: forward(x).map((v) => Number(v.toFixed(3))),
        }),
      )
      .join('\n'),
  );
  write(
    'arrays.npz',
    zipSync({
      'x.npy': npy('<f4', [N, 16], Float32Array.from(xs.flat())),
      'label.npy': npy('<i8', [N], BigInt64Array.from(labels.map(BigInt))),
    }),
  );
});

describe('slice evaluation engine', () => {
  it('ranks the fragile layer first and flags it; fp32 agrees with itself', async () => {
    const results = await evaluate(
      spec('fragile.quantlens.json', {
        model: 'fragile.onnx',
        task: 'classification',
        data: { path: 'data.jsonl' },
        slices: [{ by: 'field', field: 'group' }],
        variants: ['int8-channel', 'int4-channel'],
        sweep: false,
      }),
      { thresholds: { minSliceSize: 10 } },
    );
    assert.equal(results.variants[0].metrics.all.accuracy, 1, 'labels are the fp32 predictions');
    const layers = results.sensitivity!.layers;
    const fc1 = layers.find((l) => l.layer === '/fc1/MatMul')!;
    const fc2 = layers.find((l) => l.layer === '/fc2/MatMul')!;
    assert.equal(fc1.rank, 1);
    const kl = (l: typeof fc1): number => l.oneAtATime['int4-channel'].metrics.all.kl!;
    assert.ok(kl(fc1) > 10 * kl(fc2), `fc1 KL ${kl(fc1)} vs fc2 ${kl(fc2)}`);
    assert.ok(fc1.oneAtATime['int4-channel'].worst.effect.accuracyDrop! > 20);
    const flag = results.flags.find((f) => f.layer === '/fc1/MatMul')!;
    assert.ok(flag, 'fc1 is flagged');
    assert.ok(
      fc1.oneAtATime['int4-channel'].worst.effect.accuracyDrop! >
        3 * fc2.oneAtATime['int4-channel'].worst.effect.accuracyDrop!,
    );
    assert.match(flag.message, /^int[48]-channel on \/fc1\/MatMul: -\d+\.\d pp accuracy on slice (all|group=\w+)$/);
    // Leave-one-out: everything at int4 except fc1 is nearly lossless; except fc2 is broken.
    assert.ok(fc1.leaveOneOut!.metrics.all.kl! < fc2.leaveOneOut!.metrics.all.kl!);
    assert.equal(results.slices.map((s) => s.n).join(), `${N},${N / 2},${N / 2}`);
    assert.ok(results.budgetViolated === false, 'no budget in the spec');
  });

  it("the spec's budget.minSliceSize replaces the setting's for verdicts and flags", async () => {
    const body = {
      model: 'fragile.onnx',
      task: 'classification',
      data: { path: 'data.jsonl' },
      slices: [{ by: 'field', field: 'group' }],
      variants: ['int4-channel'],
      sweep: false,
      sensitivity: { schemes: ['int4-channel'], leaveOneOut: false },
    };
    const setting = { thresholds: { minSliceSize: 10 } };
    const loose = await evaluate(spec('loose.quantlens.json', { ...body, budget: { accuracyDrop: 1 } }), setting);
    assert.equal(loose.thresholds.minSliceSize, 10, 'no spec field: the setting');
    assert.equal(loose.variants[1].verdicts!['group=odd'], 'violated');
    assert.ok(loose.flags.length > 0 && loose.budgetViolated);
    // N / 2 = 128 samples per group, N = 256 in all: a minimum of 200 leaves only 'all' deciding, 300 none.
    const strict = await evaluate(
      spec('strict.quantlens.json', { ...body, budget: { accuracyDrop: 1, minSliceSize: 200 } }),
      setting,
    );
    assert.equal(strict.thresholds.minSliceSize, 200);
    assert.deepEqual(strict.variants[1].verdicts, { all: 'violated', 'group=even': 'noise', 'group=odd': 'noise' });
    assert.deepEqual([...new Set(strict.flags.map((f) => f.slice))], ['all']);
    const none = await evaluate(
      spec('none.quantlens.json', { ...body, budget: { accuracyDrop: 1, minSliceSize: 300 } }),
      setting,
    );
    assert.deepEqual([none.budgetViolated, none.flags, none.variants[1].violations], [false, [], []]);
    assert.equal(none.variants[1].verdicts!.all, 'noise', 'shown, never decides');
  });

  it('scores the same in a worker thread as on the main thread (classification and regression)', async () => {
    const body = {
      model: 'fragile.onnx',
      data: { path: 'data.jsonl' },
      slices: [{ by: 'field', field: 'group' }],
      variants: ['int8-channel', 'int4-channel'],
      sweep: { bits: [8, 4, 2] },
    };
    for (const task of ['classification', 'regression'] as const) {
      const file = spec(`${task}-worker.quantlens.json`, {
        ...body,
        task,
        ...(task === 'regression' ? { label: 'target' } : {}),
      });
      const inThread = await evaluate(file, { scoringWorker: false });
      const inWorker = await evaluate(file, { scoringWorker: true });
      assert.equal(inWorker.timings.scoringInWorker, true);
      assert.equal(inThread.timings.scoringInWorker, false);
      const numbers = (r: typeof inThread): unknown => ({
        variants: r.variants,
        sweep: r.sweep,
        sensitivity: r.sensitivity,
        flags: r.flags,
      });
      assert.deepEqual(numbers(inWorker), numbers(inThread), task);
    }
  });

  it('gives the same numbers whatever the weight cache and fp32 outputs kept (configurations run in groups)', async () => {
    const file = spec('groups.quantlens.json', {
      model: 'fragile.onnx',
      task: 'classification',
      data: { path: 'data.jsonl' },
      slices: [{ by: 'field', field: 'group' }],
      variants: ['int8-channel', 'int4-channel'],
      sweep: { bits: [8, 4, 2] },
      batchSize: 50,
    });
    const numbers = (r: Awaited<ReturnType<typeof evaluate>>): unknown => ({
      variants: r.variants,
      sweep: r.sweep,
      sensitivity: r.sensitivity,
      flags: r.flags,
    });
    const oneGroup = await evaluate(file, { weightCacheBytes: Infinity });
    const runs = 6 * (2 + 3 + 2 * 2 + 2 + 1); // batches x (configurations + fp32)
    assert.equal(oneGroup.timings.runs, runs);
    assert.equal(oneGroup.variants[0].metrics.all.n, N, 'fp32 scored once per sample');
    for (const options of [
      {},
      { weightCacheBytes: 0 },
      { weightCacheBytes: 0, referenceBytes: 0 },
      { weightCacheBytes: 0, referenceBytes: 0, scoringWorker: true },
    ]) {
      const r = await evaluate(file, options);
      assert.deepEqual(numbers(r), numbers(oneGroup), JSON.stringify(options));
      if (options.referenceBytes === 0) assert.equal(r.timings.runs, runs + 6 * 10, 'fp32 again for each later group');
    }
  });

  it('scores a language model the same in a worker thread as on the main thread', async () => {
    const lm = path.join(__dirname, '..', '..', 'demo', 'lm');
    const file = spec('lm-worker.quantlens.json', {
      model: path.join(lm, 'char_gpt.onnx'),
      task: { type: 'language-model', tokens: 'tokens' },
      data: { path: path.join(lm, 'heldout.jsonl') },
      slices: [{ by: 'field', field: 'source' }],
      variants: ['int8-channel', 'int4-block32'],
      sweep: false,
      sensitivity: false,
      limit: 20,
      batchSize: 8,
    });
    const inThread = await evaluate(file, { scoringWorker: false });
    const inWorker = await evaluate(file, { scoringWorker: true });
    assert.equal(inWorker.timings.scoringInWorker, true);
    assert.deepEqual(inWorker.variants, inThread.variants);
    assert.ok(
      inThread.variants[2].metrics.all.kl! > inThread.variants[1].metrics.all.kl! &&
        inThread.variants[1].metrics.all.kl! > 0,
    );
  });

  it('scores in a worker only where a core is left to it and there is enough to score', () => {
    assert.equal(scoringWorkerPays(64e6, undefined, 2), false, '2 cores: onnxruntime takes both');
    assert.equal(scoringWorkerPays(64e6, undefined, 8), true);
    assert.equal(scoringWorkerPays(64e6, 1, 2), true, 'onnxruntime on 1 of 2 cores');
    assert.equal(scoringWorkerPays(64e6, 8, 8), false);
    assert.equal(scoringWorkerPays(1e6, undefined, 16), false, 'too little to score');
  });

  it('reads the same samples from npz as from jsonl', async () => {
    const a = await evaluate(
      spec('npz.quantlens.json', {
        model: 'fragile.onnx',
        task: 'classification',
        data: { path: 'arrays.npz' },
        variants: ['int4-channel'],
        sweep: false,
        sensitivity: false,
      }),
    );
    const b = await evaluate(
      spec('jsonl.quantlens.json', {
        model: 'fragile.onnx',
        task: 'classification',
        data: { path: 'data.jsonl' },
        variants: ['int4-channel'],
        sweep: false,
        sensitivity: false,
      }),
    );
    assert.deepEqual(a.variants[1].metrics.all, b.variants[1].metrics.all);
  });

  it('limit and seed draw the same subset every time', async () => {
    const body = {
      model: 'fragile.onnx',
      task: 'classification',
      data: { path: 'data.jsonl' },
      variants: ['int4-channel'],
      sweep: false,
      sensitivity: false,
      limit: 50,
      seed: 3,
    };
    const a = await evaluate(spec('limit.quantlens.json', body));
    const b = await evaluate(spec('limit.quantlens.json', body));
    assert.equal(a.data.evaluated, 50);
    assert.deepEqual(a.variants[1].metrics.all, b.variants[1].metrics.all);
  });

  const failure = async (name: string, body: object, pattern: RegExp): Promise<SpecError> => {
    const error = await evaluate(spec(name, body)).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof SpecError, `expected a SpecError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return error;
  };

  it('fails before inference naming the field and the sample', async () => {
    write(
      'bad-label.jsonl',
      xs
        .slice(0, 5)
        .map((x, i) => JSON.stringify({ x, label: i === 2 ? 12 : 0 }))
        .join('\n'),
    );
    await failure(
      'a.quantlens.json',
      { model: 'fragile.onnx', task: 'classification', data: { path: 'bad-label.jsonl' } },
      /Label 12 of sample 2 \(line 3 of bad-label.jsonl\) is not a class index in 0..3/,
    );
    write(
      'bad-shape.jsonl',
      xs
        .slice(0, 3)
        .map((x, i) => JSON.stringify({ x: i === 1 ? x.slice(1) : x, label: 0 }))
        .join('\n'),
    );
    await failure(
      'b.quantlens.json',
      { model: 'fragile.onnx', task: 'classification', data: { path: 'bad-shape.jsonl' } },
      /Field 'x' of sample 1 \(line 2 of bad-shape.jsonl\) has 15 values; model input 'x' needs 16/,
    );
    const e = await failure(
      'c.quantlens.json',
      { model: 'fragile.onnx', task: 'classification', data: { path: 'data.jsonl' }, inputs: { pixels: 'x' } },
      /no input 'pixels'; its inputs are 'x'/,
    );
    assert.equal(e.problems[0].pointer, '/inputs/pixels');
    await failure(
      'd.quantlens.json',
      { model: 'fragile.onnx', task: 'classification', data: { path: 'missing.jsonl' } },
      /Data file 'missing.jsonl' does not exist/,
    );
    await failure(
      'e.quantlens.json',
      { model: 'nope.onnx', task: 'outputs', data: { path: 'data.jsonl' } },
      /Model 'nope.onnx' does not exist/,
    );
    await failure(
      'f.quantlens.json',
      { model: 'fragile.onnx', task: 'classification', data: { path: 'data.jsonl' }, label: 'y' },
      /No label field 'y'; the data has x, label, group/,
    );
    await failure(
      'g.quantlens.json',
      {
        model: 'fragile.onnx',
        task: 'classification',
        data: { path: 'data.jsonl' },
        variants: [{ plan: 'p.qplan.json' }],
      },
      /Plan file 'p.qplan.json' does not exist/,
    );
  });

  it('evaluates a plan as a variant', async () => {
    write('p.qplan.json', JSON.stringify({ default: 'int4-channel', layers: { '/fc1/MatMul': 'fp32' } }));
    const results = await evaluate(
      spec('plan.quantlens.json', {
        model: 'fragile.onnx',
        task: 'classification',
        data: { path: 'data.jsonl' },
        variants: [{ plan: 'p.qplan.json' }, 'int4-channel'],
        sweep: false,
        sensitivity: false,
      }),
    );
    const plan = results.variants.find((v) => v.kind === 'plan')!;
    assert.equal(plan.id, 'plan:p.qplan.json');
    // Keeping fc1 at fp32 (the fragile layer) is far better than int4 everywhere.
    assert.ok(plan.metrics.all.kl! < results.variants[2].metrics.all.kl! / 10);
  });

  it("counts every stored weight in each variant's weightBytes, biases included", async () => {
    // fc1 [16, 16] + bias [16], fc2 [16, 4] + bias [4]: the biases are kept float32 by every scheme.
    write(
      'biased.onnx',
      model({
        name: 'biased',
        node: [
          node('MatMul', ['x', 'fc1.weight'], ['h0'], '/fc1/MatMul'),
          node('Add', ['h0', 'fc1.bias'], ['h'], '/fc1/Add'),
          node('Relu', ['h'], ['a'], '/act/Relu'),
          node('MatMul', ['a', 'fc2.weight'], ['l0'], '/fc2/MatMul'),
          node('Add', ['l0', 'fc2.bias'], ['logits'], '/fc2/Add'),
        ],
        initializer: [
          floatTensor('fc1.weight', [16, 16], w1),
          floatTensor('fc1.bias', [16], gaussian(r, 16, 0.1)),
          floatTensor('fc2.weight', [16, 4], w2),
          floatTensor('fc2.bias', [4], gaussian(r, 4, 0.1)),
        ],
        input: [value('x', DT.float32, ['batch', 16])],
        output: [value('logits', DT.float32, ['batch', 4])],
      }),
    );
    const results = await evaluate(
      spec('biased.quantlens.json', {
        model: 'biased.onnx',
        task: 'classification',
        data: { path: 'data.jsonl' },
        variants: ['int8-channel', 'fp16', 'int4-channel-asym'],
        sweep: false,
        sensitivity: false,
      }),
    );
    const biases = (16 + 4) * 4;
    // Per output column (MatMul B [K, N]): int8 values + a float32 scale; int4 asym: packed nibbles, scales and
    // packed zero points.
    const int8Channel = 16 * 16 + 16 * 4 + (16 * 4 + 4 * 4);
    const fp16 = 2 * (16 * 16 + 16 * 4);
    const int4Asym = (16 * 16) / 2 + 16 * 4 + 16 / 2 + ((16 * 4) / 2 + 4 * 4 + 4 / 2);
    const bytes = Object.fromEntries(results.variants.map((v) => [v.id, v.weightBytes]));
    assert.deepEqual(bytes, {
      fp32: (256 + 16 + 64 + 4) * 4,
      'int8-channel': int8Channel + biases,
      fp16: fp16 + biases,
      'int4-channel-asym': int4Asym + biases,
    });
  });

  it('reads csv, npy, idx and image folders', async () => {
    write('table.csv', 'id,x,y\n0,1.5,3\n1,2,4.5\n');
    write('ids.npy', npy('<i4', [2], Int32Array.of(7, 9)));
    write(
      'images/cat/a.png',
      PNG.sync.write(
        Object.assign(new PNG({ width: 2, height: 2 }), {
          data: Buffer.from([255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 255]),
        }),
      ),
    );
    write(
      'images/dog/b.png',
      PNG.sync.write(Object.assign(new PNG({ width: 2, height: 2 }), { data: Buffer.alloc(16, 255) })),
    );
    const data = await readDataset(
      [
        { path: 'table.csv' },
        { path: 'ids.npy', as: 'ids' },
        { path: 'images', image: { channels: 'gray', size: [2, 2] } },
      ],
      dir,
      false,
    );
    assert.equal(data.count, 2);
    assert.deepEqual(Array.from(data.fields.get('x')!.values(1)), [2]);
    assert.equal(data.fields.get('ids')!.scalar(1), 9);
    assert.equal(data.fields.get('class')!.scalar(1), 'dog');
    assert.equal(data.fields.get('label')!.scalar(0), 0);
    assert.deepEqual(data.fields.get('image')!.shape, [1, 2, 2]);
    assert.deepEqual(
      Array.from(data.fields.get('image')!.values(0), (v) => Math.round(v * 1000) / 1000),
      [1, 0, 0, 1],
    );
    await assert.rejects(
      readDataset([{ path: 'table.csv' }, { path: 'arrays.npz' }], dir, false),
      /has 256 samples but 'table.csv' has 2/,
    );
  });

  it('reads a .npy larger than the cache a block of rows at a time: same values, hash and numbers', async () => {
    write('x.npy', npy('<f4', [N, 16], Float32Array.from(xs.flat())));
    write('label.npy', npy('<i8', [N], BigInt64Array.from(labels.map(BigInt))));
    const sources = [
      { path: 'x.npy', as: 'x' },
      { path: 'label.npy', as: 'label' },
    ];
    const whole = await readDataset(sources, dir, false);
    // 16 KB of cache: blocks of 1 KB, 16 rows of x and 128 labels; read in order, out of order and backwards.
    const lazy = await readDataset(sources, dir, false, { cacheBytes: 16 * 1024 });
    assert.deepEqual(lazy.files, whole.files, 'same hashes');
    for (const i of [0, 1, 15, 16, 17, 200, 255, 3, 128, 127, 0]) {
      assert.deepEqual(
        Array.from(lazy.fields.get('x')!.values(i)),
        Array.from(whole.fields.get('x')!.values(i)),
        `x of sample ${i}`,
      );
      assert.equal(lazy.fields.get('label')!.scalar(i), labels[i], `label of sample ${i}`);
    }
    const body = {
      model: 'fragile.onnx',
      task: 'classification',
      data: sources,
      variants: ['int4-channel'],
      sweep: false,
      sensitivity: false,
    };
    const a = await evaluate(spec('npy.quantlens.json', body));
    const b = await evaluate(spec('npy.quantlens.json', body), { dataCacheBytes: 4096 });
    assert.deepEqual(
      b.variants.map((v) => v.metrics),
      a.variants.map((v) => v.metrics),
    );
    // A file cut short fails before inference, at the source.
    write('short.npy', npy('<f4', [N, 16], Float32Array.from(xs.flat())).subarray(0, 2000));
    const e = await failure(
      'short.quantlens.json',
      {
        ...body,
        data: [
          { path: 'short.npy', as: 'x' },
          { path: 'label.npy', as: 'label' },
        ],
      },
      /Data file 'short.npy': the .npy data is short/,
    );
    assert.equal(e.problems[0].pointer, '/data/0/path');
    // Rows are read when used: a file cut after the checks fails naming the sample and the file.
    write('x.npy', npy('<f4', [N, 16], Float32Array.from(xs.flat())).subarray(0, 4096));
    assert.throws(
      () => lazy.fields.get('x')!.values(200),
      /Data file 'x.npy': reading sample 200: the file ends at byte \d+/,
    );
  });

  it('decodes images when used, keeping what fits in the cache; a broken one is named before inference', async () => {
    const png = (values: number[]): Uint8Array =>
      PNG.sync.write(
        Object.assign(new PNG({ width: 2, height: 2 }), { data: Buffer.from(values.flatMap((v) => [v, v, v, 255])) }),
      );
    for (let i = 0; i < 6; i++)
      write(`digits/${i % 2 ? 'odd' : 'even'}/${i}.png`, png([i * 40, 255 - i * 40, 7 * i, 128]));
    const source = [{ path: 'digits', image: { channels: 'gray' as const, size: [2, 2] as [number, number] } }];
    const kept = await readDataset(source, dir, false);
    const decoded = await readDataset(source, dir, false, { cacheBytes: 0 });
    for (let i = 0; i < 6; i++)
      assert.deepEqual(
        Array.from(decoded.fields.get('image')!.values(i)),
        Array.from(kept.fields.get('image')!.values(i)),
        `image ${i}`,
      );
    assert.equal(kept.fields.get('file')!.scalar(3), path.join('odd', '1.png'), 'sorted by class folder, then name');
    assert.deepEqual(
      Array.from(kept.fields.get('image')!.values(3), (v) => Math.round(v * 255)),
      [40, 215, 7, 128],
    );
    write('digits/odd/5.png', 'not an image');
    const broken = await readDataset(source, dir, false);
    assert.throws(
      () => broken.fields.get('image')!.values(5),
      (e: unknown) =>
        e instanceof Error &&
        /Data folder 'digits': image odd\/5.png: odd\/5.png is neither PNG nor JPEG/.test(e.message),
    );
    write(
      'digit-model.onnx',
      model({
        name: 'digits',
        node: [
          node('Flatten', ['image'], ['flat'], '/flatten'),
          node('MatMul', ['flat', 'w'], ['logits'], '/fc/MatMul'),
        ],
        initializer: [floatTensor('w', [4, 2], gaussian(rng(3), 8, 1))],
        input: [value('image', DT.float32, ['batch', 1, 2, 2])],
        output: [value('logits', DT.float32, ['batch', 2])],
      }),
    );
    const e = await failure(
      'digits.quantlens.json',
      { model: 'digit-model.onnx', task: 'classification', data: source },
      /image odd\/5.png: odd\/5.png is neither PNG nor JPEG/,
    );
    assert.equal(e.problems[0].pointer, '/data/0/path');
  });

  it('runs in a child process with the same numbers; a crash is an error', async () => {
    const file = path.join(dir, 'fragile.quantlens.json');
    const entry = path.join(__dirname, '..', '..', 'src', 'node', 'eval', 'evalProcess.ts');
    const child = await evaluateInChild(entry, file, {
      execArgv: ['--import', 'tsx'],
      thresholds: { minSliceSize: 10 },
    });
    const here = await evaluate(file, { thresholds: { minSliceSize: 10 } });
    assert.deepEqual(
      child.variants.map((v) => v.metrics),
      here.variants.map((v) => v.metrics),
    );
    await assert.rejects(
      // A native crash of onnxruntime aborts the process: the same signal, sent from outside.
      evaluateInChild(entry, file, { execArgv: ['--import', 'tsx'], onSpawn: (pid) => process.kill(pid, 'SIGABRT') }),
      (e: unknown) => e instanceof EvalProcessError && /stopped unexpectedly \(signal SIGABRT\)/.test(e.message),
    );
    const bad = evaluateInChild(entry, path.join(dir, 'a.quantlens.json'), { execArgv: ['--import', 'tsx'] });
    await assert.rejects(bad, (e: unknown) => e instanceof SpecError && e.problems[0].pointer === '/label');
  });
});
