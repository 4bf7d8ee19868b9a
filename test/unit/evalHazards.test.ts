/**
 * Evaluation inputs that may be hostile, and what onnxruntime refuses: a spec naming a FIFO, a device (a
 * symlink to /dev/zero or /dev/urandom) or a folder of such images as its data, model, plan or the spec itself
 * ends at once with a message at its line in the spec; models with external data evaluate (onnxruntime opens
 * nothing itself) with the numbers of the same model with embedded weights; feeds of the wrong rank or size
 * and models onnxruntime cannot load are bad input (exit 2) with plain messages.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { SpecError } from '../../src/core/eval/spec';
import { evaluateInChild } from '../../src/node/eval/evalClient';
import { evaluate } from '../../src/node/eval/evaluate';
import { npy } from '../fixtures/npy';
import { DT, floatTensor, gaussian, model, node, rng, value } from '../fixtures/onnxBuilder';

const ROOT = path.join(__dirname, '..', '..');
const MODELS = path.join(ROOT, 'test', 'fixtures', 'models');
const ENTRY = path.join(ROOT, 'src', 'node', 'eval', 'evalProcess.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-evalhazards-'));
const at = (name: string): string => path.join(dir, name);
const write = (name: string, content: string | Uint8Array): string => {
  mkdirSync(path.dirname(at(name)), { recursive: true });
  writeFileSync(at(name), content);
  return at(name);
};
const fifo = (name: string): string => {
  mkdirSync(path.dirname(at(name)), { recursive: true });
  const r = spawnSync('mkfifo', [at(name)]);
  assert.equal(r.status, 0, `mkfifo: ${r.stderr}`);
  return at(name);
};
const link = (name: string, target: string): string => {
  mkdirSync(path.dirname(at(name)), { recursive: true });
  symlinkSync(target, at(name));
  return at(name);
};
/** A spec written as formatted JSON (one key per line, so pointers have distinct lines). */
const spec = (name: string, body: object): string => write(name, `${JSON.stringify(body, null, 2)}\n`);

const r = rng(5);
const N = 24;
const xs = Array.from({ length: N }, () => Array.from(gaussian(r, 16, 1), (v) => Number(v.toFixed(4))));
const base = {
  model: 'mlp.onnx',
  task: 'classification',
  data: { path: 'data.jsonl' },
  variants: ['int8-channel'],
  sweep: false,
  sensitivity: false,
};

/** Evaluates in-process, expecting a SpecError within `ms`; returns it. */
async function refused(file: string, pointer: string, pattern: RegExp, ms = 5000): Promise<SpecError> {
  const t0 = performance.now();
  const error = await evaluate(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  const took = performance.now() - t0;
  assert.ok(error instanceof SpecError, `expected a SpecError, got ${String(error)}`);
  assert.match(error.message, pattern);
  assert.equal(error.problems[0].pointer, pointer, error.message);
  // The message names its line in the spec (file:line:column).
  assert.match(error.message, new RegExp(`${path.basename(file).replace(/\./g, '\\.')}:\\d+:\\d+: `));
  assert.ok(took < ms, `took ${took.toFixed(0)} ms`);
  return error;
}

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

before(() => {
  const w1 = gaussian(r, 16 * 8, 0.3);
  const w2 = gaussian(r, 8 * 4, 0.3);
  write(
    'mlp.onnx',
    model({
      name: 'mlp',
      node: [
        node('MatMul', ['x', 'fc1.weight'], ['h'], '/fc1/MatMul'),
        node('Relu', ['h'], ['a'], '/act/Relu'),
        node('MatMul', ['a', 'fc2.weight'], ['logits'], '/fc2/MatMul'),
      ],
      initializer: [floatTensor('fc1.weight', [16, 8], w1), floatTensor('fc2.weight', [8, 4], w2)],
      input: [value('x', DT.float32, ['batch', 16])],
      output: [value('logits', DT.float32, ['batch', 4])],
    }),
  );
  write('data.jsonl', xs.map((x, i) => JSON.stringify({ x, label: i % 4 })).join('\n'));
});

describe('evaluation inputs are read like models: regular files only, bounded', () => {
  it(
    'a FIFO as data ends at once, at the data source (the old reader waited forever)',
    { timeout: 20_000 },
    async () => {
      fifo('fifo.jsonl');
      await refused(
        spec('fifo-data.quantlens.json', { ...base, data: { path: 'fifo.jsonl' } }),
        '/data/path',
        /Data file 'fifo.jsonl' is a FIFO \(named pipe\); QuantLens reads only regular files/,
      );
    },
  );

  for (const device of ['/dev/zero', '/dev/urandom']) {
    it(`data -> ${device} ends at once (the old reader read without end)`, { timeout: 20_000 }, async () => {
      const name = path.basename(device);
      link(`${name}.jsonl`, device);
      link(`${name}.npy`, device);
      await refused(
        spec(`${name}-jsonl.quantlens.json`, { ...base, data: { path: `${name}.jsonl` } }),
        '/data/path',
        new RegExp(`Data file '${name}.jsonl' is a character device`),
      );
      await refused(
        spec(`${name}-npy.quantlens.json`, {
          ...base,
          data: [{ path: 'data.jsonl' }, { path: `${name}.npy`, as: 'extra' }],
        }),
        '/data/1/path',
        new RegExp(`Data file '${name}.npy' is a character device`),
      );
    });
  }

  it('an image folder holding a FIFO or a /dev/zero link names that image', { timeout: 20_000 }, async () => {
    const png = PNG.sync.write(Object.assign(new PNG({ width: 4, height: 4 }), { data: Buffer.alloc(64, 200) }));
    write('images/a/1.png', png);
    fifo('images/a/2.png');
    write('flat/1.png', png);
    link('flat/2.png', '/dev/zero');
    write(
      'image-model.onnx',
      model({
        name: 'images',
        node: [node('Flatten', ['image'], ['f'], '/flatten'), node('MatMul', ['f', 'w'], ['logits'], '/fc/MatMul')],
        initializer: [floatTensor('w', [16, 2], gaussian(rng(2), 32, 1))],
        input: [value('image', DT.float32, ['batch', 1, 4, 4])],
        output: [value('logits', DT.float32, ['batch', 2])],
      }),
    );
    const body = { ...base, model: 'image-model.onnx' };
    await refused(
      spec('fifo-image.quantlens.json', { ...body, data: { path: 'images', image: { channels: 'gray' } } }),
      '/data/path',
      /Data folder 'images': image a\/2.png is a FIFO/,
    );
    await refused(
      spec('zero-image.quantlens.json', {
        ...body,
        task: 'outputs',
        data: { path: 'flat', image: { channels: 'gray' } },
      }),
      '/data/path',
      /Data folder 'flat': image 2.png is a character device/,
    );
    fifo('not-a-folder');
    await refused(
      spec('fifo-folder.quantlens.json', { ...body, data: { path: 'not-a-folder', format: 'images' } }),
      '/data/path',
      /Data file 'not-a-folder': it is not a folder/,
    );
  });

  it('a model -> /dev/zero and a FIFO as model end at once, at "model"', { timeout: 20_000 }, async () => {
    link('zero.onnx', '/dev/zero');
    fifo('fifo.onnx');
    await refused(
      spec('zero-model.quantlens.json', { ...base, model: 'zero.onnx' }),
      '/model',
      /The model file .*zero.onnx is a character device/,
    );
    await refused(
      spec('fifo-model.quantlens.json', { ...base, model: 'fifo.onnx' }),
      '/model',
      /The model file .*fifo.onnx is a FIFO/,
    );
  });

  it('a plan file or the spec itself that is a FIFO or a device ends at once', { timeout: 20_000 }, async () => {
    fifo('fifo.qplan.json');
    await refused(
      spec('fifo-plan.quantlens.json', { ...base, variants: [{ plan: 'fifo.qplan.json' }] }),
      '/variants/0/plan',
      /Plan file 'fifo.qplan.json' is a FIFO/,
    );
    for (const [name, kind] of [
      ['fifo-spec.quantlens.json', 'a FIFO'],
      ['zero-spec.quantlens.json', 'a character device'],
    ]) {
      if (kind === 'a FIFO') fifo(name);
      else link(name, '/dev/zero');
      const t0 = performance.now();
      await assert.rejects(
        evaluate(at(name)),
        (e: unknown) =>
          e instanceof SpecError && e.message.includes(`Cannot read the spec: The spec ${at(name)} is ${kind}`),
      );
      assert.ok(performance.now() - t0 < 5000);
    }
  });

  it('the CLI exits 2 with the file and the spec line for a FIFO as data', { timeout: 60_000 }, () => {
    const file = spec('cli-fifo.quantlens.json', { ...base, data: { path: 'fifo.jsonl' } });
    const result = cli('eval', file, '--no-write');
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /cli-fifo\.quantlens\.json:5:\d+: Data file 'fifo.jsonl' is a FIFO/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  it('a large .npy read in blocks is refused when it turns into a FIFO while in use', { timeout: 20_000 }, async () => {
    write('big.npy', npy('<f4', [N, 16], Float32Array.from(xs.flat())));
    const { readDataset } = await import('../../src/node/eval/data');
    const data = await readDataset([{ path: 'big.npy', as: 'x' }], dir, true, { cacheBytes: 256 });
    assert.equal(data.fields.get('x')!.values(3)[0], Math.fround(xs[3][0]));
    spawnSync('rm', [at('big.npy')]);
    fifo('big.npy');
    assert.throws(() => data.fields.get('x')!.values(20), /Data file 'big.npy' is a FIFO/);
  });
});

describe('models with external data evaluate', () => {
  it(
    'in-process and in the child, with the numbers of the same model with embedded weights',
    { timeout: 120_000 },
    async () => {
      mkdirSync(at('ext'), { recursive: true });
      copyFileSync(path.join(MODELS, 'external_data.onnx'), at('ext/external_data.onnx'));
      copyFileSync(path.join(MODELS, 'external_data.bin'), at('ext/external_data.bin'));
      const bin = readFileSync(path.join(MODELS, 'external_data.bin'));
      const weights = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + 544));
      write(
        'ext/embedded.onnx',
        model({
          name: 'external',
          node: [
            node('MatMul', ['x', 'fc.weight'], ['xw'], '/fc/MatMul'),
            node('Add', ['xw', 'fc.bias'], ['y'], '/fc/Add'),
          ],
          initializer: [
            floatTensor('fc.weight', [16, 8], weights.slice(0, 128)),
            floatTensor('fc.bias', [8], weights.slice(128, 136)),
          ],
          input: [value('x', DT.float32, ['batch', 16])],
          output: [value('y', DT.float32, ['batch', 8])],
        }),
      );
      write('ext/data.jsonl', xs.map((x, i) => JSON.stringify({ x, label: i % 8 })).join('\n'));
      const body = { ...base, data: { path: 'data.jsonl' }, variants: ['int8-channel', 'int4-channel'] };
      const external = spec('ext/external.quantlens.json', { ...body, model: 'external_data.onnx' });
      const embedded = spec('ext/embedded.quantlens.json', { ...body, model: 'embedded.onnx' });
      const numbers = (x: Awaited<ReturnType<typeof evaluate>>): unknown => x.variants.map((v) => v.metrics);
      const here = await evaluate(external);
      const reference = await evaluate(embedded);
      assert.deepEqual(numbers(here), numbers(reference));
      assert.ok(here.variants.length === 3 && here.variants[2].metrics.all.kl! > 0, 'int4 differs from fp32');
      // The child runs elsewhere (its working directory is not the model's): onnxruntime is given the bytes.
      const child = await evaluateInChild(ENTRY, external, { execArgv: ['--import', 'tsx'] });
      assert.deepEqual(numbers(child), numbers(reference));
    },
  );
});

describe('what onnxruntime refuses is bad input, with the input and both shapes', () => {
  it('a feed shape of the wrong rank is refused before inference; the CLI exits 2', { timeout: 60_000 }, async () => {
    const file = spec('rank.quantlens.json', { ...base, inputs: { x: { field: 'x', shape: [4, 4] } } });
    await refused(
      file,
      '/inputs/x/shape',
      /Model input 'x' is \[batch, 16\] \(rank 2\); field 'x' would be fed as \[batch, 4, 4\] \(rank 3\)/,
    );
    const result = cli('eval', file, '--no-write');
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /rank\.quantlens\.json:\d+:\d+: Model input 'x' is \[batch, 16\] \(rank 2\)/);
  });

  it('a shape of the wrong size says which numbers differ (was "16 ... takes 16")', { timeout: 20_000 }, async () => {
    await refused(
      spec('size.quantlens.json', { ...base, inputs: { x: { field: 'x', shape: [4, 5] } } }),
      '/inputs/x/shape',
      /The shape \[4, 5\] given for model input 'x' holds 20 value\(s\) per sample, but field 'x' has 16 \(\[16\]\)/,
    );
  });

  it('a feed onnxruntime refuses on the first run names the input and both shapes', { timeout: 60_000 }, async () => {
    write(
      'symbolic.onnx',
      model({
        name: 'symbolic',
        node: [node('MatMul', ['x', 'w'], ['logits'], '/fc/MatMul')],
        initializer: [floatTensor('w', [8, 4], gaussian(rng(4), 32, 1))],
        input: [value('x', DT.float32, ['batch', 'n'])],
        output: [value('logits', DT.float32, ['batch', 4])],
      }),
    );
    const file = spec('first-run.quantlens.json', { ...base, model: 'symbolic.onnx' });
    await refused(
      file,
      '/inputs',
      /onnxruntime refused the first batch \(model input 'x' expects \[batch, n\], was given \[24, 16\]\): .+/,
    );
    const result = cli('eval', file, '--no-write');
    assert.equal(result.code, 2, result.stderr);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  it('an over-long language-model window names the tokens input and both shapes', { timeout: 60_000 }, async () => {
    const windows = Array.from({ length: 4 }, (_, i) => ({
      tokens: Array.from({ length: 301 }, (_, k) => 1 + ((i + k) % 60)),
    }));
    write('long.jsonl', windows.map((w) => JSON.stringify(w)).join('\n'));
    await refused(
      spec('long-window.quantlens.json', {
        model: path.join(ROOT, 'demo', 'lm', 'char_gpt.onnx'),
        task: { type: 'language-model', tokens: 'tokens' },
        data: { path: 'long.jsonl' },
        variants: ['int8-channel'],
        sweep: false,
        sensitivity: false,
      }),
      '/task/tokens',
      /onnxruntime refused the first batch \(model input 'tokens' expects \[batch, time\], was given \[4, 300\], a window of T tokens\): /,
      30_000,
    );
  });

  it(
    'a model onnxruntime cannot load is exit 2: "onnxruntime cannot load <file>: <its message>"',
    { timeout: 60_000 },
    async () => {
      write(
        'unknown-op.onnx',
        model({
          name: 'unknown',
          node: [node('MatMul', ['x', 'w'], ['h'], '/fc/MatMul'), node('NoSuchOp', ['h'], ['logits'], '/odd')],
          initializer: [floatTensor('w', [16, 4], gaussian(rng(4), 64, 1))],
          input: [value('x', DT.float32, ['batch', 16])],
          output: [value('logits', DT.float32, ['batch', 4])],
        }),
      );
      const file = spec('unknown-op.quantlens.json', { ...base, model: 'unknown-op.onnx' });
      const error = await refused(file, '/model', /onnxruntime cannot load unknown-op\.onnx: .*NoSuchOp/);
      assert.doesNotMatch(error.problems[0].message, /\n/, 'first line only');
      const result = cli('eval', file, '--no-write');
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /unknown-op\.quantlens\.json:2:\d+: onnxruntime cannot load unknown-op\.onnx: /);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    },
  );
});

describe('images are bounded by what QuantLens gives one image', () => {
  it('a PNG whose header claims 100000 x 100000 pixels is refused before decoding', async () => {
    const { preprocessImage } = await import('../../src/node/eval/dataImages');
    const { crc32 } = await import('node:zlib');
    const png = Buffer.from(
      PNG.sync.write(Object.assign(new PNG({ width: 2, height: 2 }), { data: Buffer.alloc(16, 9) })),
    );
    png.writeUInt32BE(100_000, 16);
    png.writeUInt32BE(100_000, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)) >>> 0, 29);
    assert.throws(
      () => preprocessImage(png, 'huge.png', {}),
      /huge.png is 100000 x 100000 pixels; QuantLens takes images of at most 33554432 pixels/,
    );
    assert.throws(
      () => preprocessImage(PNG.sync.write(new PNG({ width: 2, height: 2 })), 'small.png', { size: [1e5, 1e5] }),
      /small.png resized to image.size is 100000 x 100000 pixels/,
    );
  });
});
