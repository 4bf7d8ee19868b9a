/**
 * Hostile files the reader must refuse or survive (issue 18): FIFOs, device symlinks, attributes that ask for
 * more memory than the file holds, block_size 0, negative dims, bad external offsets, deep nesting, 100k
 * initializers. Each case failed on the code before the hardening (blocked, allocated, looped or threw raw text).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { onnx } from 'onnx-proto';
import { ModelError } from '../../src/core/onnx/errors';
import { dequantize, type DequantInput, type StoredQuantization } from '../../src/core/quant/storedQuant';
import { planAnalysis, taskFor, type PlannedWeight } from '../../src/node/analysisPlan';
import { runAnalysisTask } from '../../src/node/analysisTask';
import { loadModelFile } from '../../src/node/modelFile';
import { DT, externalTensor, floatTensor, model, node, rawTensor, value } from '../fixtures/onnxBuilder';

const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-hazard-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Rejects when `promise` does not settle within `ms` (the old reader blocked forever on a FIFO). */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function planOf(file: string): Promise<Map<string, PlannedWeight>> {
  const loaded = await loadModelFile(file);
  const planned = await planAnalysis({ path: file, ...loaded }, loaded.weights);
  return new Map(planned.map((w) => [w.name, w]));
}

/** Plans and analyses every weight as the inspector does, in this thread. */
async function analyseAll(file: string): Promise<Map<string, PlannedWeight>> {
  const planned = await planOf(file);
  for (const w of planned.values()) {
    const task = taskFor(file, w, w.quantizable ? ['int8-channel', 'int4-block32'] : [], 16);
    if (task) runAnalysisTask({ ...task, grids: false });
  }
  return planned;
}

const nbitsModel = (attrs: Record<string, number>, packedBytes = 16): Uint8Array =>
  model(
    {
      node: [
        node('MatMulNBits', ['x', 'B', 'scales'], ['y'], 'nb', attrs, 'com.microsoft'),
        node('MatMul', ['x', 'good'], ['z'], 'mm'),
      ],
      initializer: [
        rawTensor('B', DT.uint8, [1, 1, packedBytes], new Uint8Array(packedBytes).fill(0x88)),
        floatTensor('scales', [1], new Float32Array([0.5])),
        floatTensor(
          'good',
          [32, 4],
          new Float32Array(128).map((_, i) => Math.sin(i)),
        ),
      ],
      input: [value('x', DT.float32, [1, 32])],
      output: [value('y', DT.float32, [1, 1]), value('z', DT.float32, [1, 4])],
    },
    {
      opsets: [
        ['', 17],
        ['com.microsoft', 1],
      ],
    },
  );

describe('hazards: files that are not regular files', () => {
  it('refuses a FIFO named x.onnx at once (the old reader blocked a threadpool thread forever)', async () => {
    const fifo = path.join(dir, 'fifo.onnx');
    execFileSync('mkfifo', [fifo]);
    await within(
      3000,
      assert.rejects(
        loadModelFile(fifo),
        (e: unknown) => e instanceof ModelError && e.info.code === 'not-a-file' && /FIFO/.test(e.message),
      ),
    );
  });
  for (const device of ['/dev/zero', '/dev/urandom']) {
    it(`refuses x.onnx -> ${device} (the old reader read without end)`, async () => {
      const link = path.join(dir, `${path.basename(device)}.onnx`);
      symlinkSync(device, link);
      await within(
        3000,
        assert.rejects(
          loadModelFile(link),
          (e: unknown) =>
            e instanceof ModelError && /character device; QuantLens reads only regular files/.test(e.message),
        ),
      );
    });
  }
  it('refuses a folder named x.onnx and a missing file with a plain message', async () => {
    await assert.rejects(loadModelFile(dir), /folder; QuantLens reads only regular files/);
    await assert.rejects(loadModelFile(path.join(dir, 'missing.onnx')), /missing\.onnx does not exist\.$/);
  });
  it('refuses external data that is a FIFO inside the model folder', async () => {
    const folder = mkdtempSync(path.join(dir, 'extfifo-'));
    execFileSync('mkfifo', [path.join(folder, 'w.bin')]);
    writeFileSync(
      path.join(folder, 'm.onnx'),
      model({
        node: [node('Identity', ['w'], ['y'], 'id')],
        initializer: [externalTensor('w', DT.float32, [4], 'w.bin', 0, 16)],
        output: [value('y', DT.float32, [4])],
      }),
    );
    await within(3000, assert.rejects(loadModelFile(path.join(folder, 'm.onnx')), /FIFO/));
  });
});

describe('hazards: attributes and dims checked against the stored bytes', () => {
  it('a 449-byte-class MatMulNBits asking for 16 GiB marks that weight and analyses the rest', async () => {
    const file = path.join(dir, 'huge_nbits.onnx');
    writeFileSync(file, nbitsModel({ K: 65536, N: 65536, bits: 4, block_size: 32 }));
    const planned = await within(10_000, analyseAll(file));
    assert.match(
      planned.get('B')!.problem!,
      /Tensor 'B' cannot be dequantized: nb: the packed weight \[N=65536, K=65536\] needs 2147483648 values, the model stores 16/,
    );
    assert.equal(planned.get('B')!.source, undefined);
    assert.equal(planned.get('good')!.problem, undefined);
    assert.ok(planned.get('good')!.source);
  });
  it('refuses to dequantize from attributes alone (the old dequantizeNBits allocated N*K floats first)', () => {
    const q: StoredQuantization = {
      op: 'MatMulNBits',
      node: 'nb',
      storedType: 'uint4',
      bits: 4,
      granularity: 'block',
      axis: 1,
      blockSize: 32,
      scale: 's',
      dims: [65536, 65536],
      summary: '',
    };
    const input: DequantInput = { q, storedDims: [1, 1, 16], scale: [1], toFloat16: false };
    assert.throws(() => dequantize(new Uint8Array(16), input), /needs 2147483648 values, the model stores 16/);
  });
  it('block_size=0 is refused instead of looping forever (Math.ceil(K/0))', async () => {
    const file = path.join(dir, 'block0.onnx');
    writeFileSync(file, nbitsModel({ K: 32, N: 1, bits: 4, block_size: 0 }));
    const planned = await within(10_000, analyseAll(file));
    assert.match(planned.get('B')!.problem!, /block_size=0 is not usable/);
    const q: StoredQuantization = {
      op: 'MatMulNBits',
      node: 'nb',
      storedType: 'uint4',
      bits: 4,
      granularity: 'block',
      axis: 1,
      blockSize: 0,
      scale: 's',
      dims: [1, 32],
      summary: '',
    };
    assert.throws(
      () => dequantize(new Uint8Array(16), { q, storedDims: [1, 1, 16], scale: [1], toFloat16: false }),
      /K=|block/,
    );
  });
  it('bits=3 and K=0 are refused with the attribute named', async () => {
    for (const [attrs, pattern] of [
      [{ K: 32, N: 1, bits: 3, block_size: 32 }, /bits=3 is not supported/],
      [{ K: 0, N: 1, bits: 4, block_size: 32 }, /K=0 and N=1 must be whole numbers/],
    ] as const) {
      const file = path.join(dir, 'nbits_attr.onnx');
      writeFileSync(file, nbitsModel(attrs));
      const planned = await analyseAll(file);
      assert.match(planned.get('B')!.problem!, pattern);
    }
  });
  it('DequantizeLinear: block_size -1, an axis outside the rank, too few scales are refused', async () => {
    const cases: [Record<string, number>, number[], RegExp][] = [
      [{ axis: 0, block_size: -1 }, [2, 4], /block_size -1 is not a whole number/],
      [{ axis: 5 }, [4], /axis 5 is outside the weight's 2 dimensions/],
      [{ axis: 0, block_size: 2 }, [1, 4], /the scale needs 8 values, the model stores 4/],
    ];
    for (const [attrs, scaleDims, pattern] of cases) {
      const file = path.join(dir, 'dql.onnx');
      const n = scaleDims.reduce((a, b) => a * b, 1);
      writeFileSync(
        file,
        model(
          {
            node: [node('DequantizeLinear', ['q', 's'], ['w'], 'dq', attrs), node('MatMul', ['x', 'w'], ['y'], 'mm')],
            initializer: [
              rawTensor('q', DT.int8, [4, 4], new Int8Array(16).fill(3)),
              floatTensor('s', scaleDims, new Float32Array(n).fill(0.1)),
            ],
            input: [value('x', DT.float32, [1, 4])],
            output: [value('y', DT.float32, [1, 4])],
          },
          { opsets: [['', 21]] },
        ),
      );
      const planned = await analyseAll(file);
      assert.match(planned.get('q')!.problem ?? '', pattern, JSON.stringify(attrs));
    }
  });
  it('negative dims mark that tensor (count -4 gave SQNR Infinity) and the rest is analysed', async () => {
    const file = path.join(dir, 'negative.onnx');
    const bad: onnx.ITensorProto = { ...floatTensor('bad', [2, 2], new Float32Array(4)), dims: [2, -2] };
    const worse: onnx.ITensorProto = { ...floatTensor('worse', [64], new Float32Array(64)), dims: [-64] };
    writeFileSync(
      file,
      model({
        node: [
          node('MatMul', ['x', 'bad'], ['y'], 'a'),
          node('MatMul', ['x', 'worse'], ['z'], 'b'),
          node('MatMul', ['x', 'good'], ['u'], 'c'),
        ],
        initializer: [bad, worse, floatTensor('good', [2, 2], new Float32Array([1, 2, 3, 4]))],
        input: [value('x', DT.float32, [1, 2])],
        output: [value('y', DT.float32, [1, 2])],
      }),
    );
    const loaded = await loadModelFile(file);
    assert.equal(loaded.overview.parameterCount, 4);
    const planned = await analyseAll(file);
    assert.match(planned.get('bad')!.problem!, /Tensor 'bad': its shape \[2, -2\] has the dimension -2/);
    assert.match(planned.get('worse')!.problem!, /dimension -64/);
    assert.equal(planned.get('good')!.problem, undefined);
  });
  for (const offset of ['-1', 'abc', '1.5']) {
    it(`external data offset '${offset}' is refused with a clear message`, async () => {
      const folder = mkdtempSync(path.join(dir, 'offset-'));
      writeFileSync(path.join(folder, 'w.bin'), new Uint8Array(64));
      const tensor = externalTensor('w', DT.float32, [4], 'w.bin', 0, 16);
      tensor.externalData![1].value = offset;
      writeFileSync(
        path.join(folder, 'm.onnx'),
        model({
          node: [node('MatMul', ['x', 'w'], ['y'], 'mm')],
          initializer: [tensor, floatTensor('good', [4], new Float32Array(4))],
          output: [value('y', DT.float32, [4])],
        }),
      );
      const planned = await analyseAll(path.join(folder, 'm.onnx'));
      assert.equal(
        planned.get('w')!.problem,
        `Tensor 'w': its external data offset '${offset}' is not a whole number of bytes.`,
      );
    });
  }
});

describe('hazards: structure', () => {
  it('deep nesting gives a plain message, never "Maximum call stack size exceeded"', async () => {
    // Encoded by hand: protobufjs' own encoder overflows the stack on this nesting too.
    const varint = (n: number): number[] => {
      const out: number[] = [];
      for (; n > 127; n = Math.floor(n / 128)) out.push((n % 128) | 128);
      return [...out, n];
    };
    // Built from the outside in: each level is three headers, and the lengths are known from the depth.
    const depth = 20_000;
    const headers: number[][] = [];
    let inner = 0;
    for (let i = 0; i < depth * 3; i++) {
      const field = [6, 5, 1][i % 3];
      const header = [(field << 3) | 2, ...varint(inner)];
      headers.push(header);
      inner += header.length;
    }
    const bytes = [0x08, 0x08, (7 << 3) | 2, ...varint(inner), ...headers.reverse().flat()];
    const file = path.join(dir, 'deep.onnx');
    writeFileSync(file, Uint8Array.from(bytes));
    await assert.rejects(loadModelFile(file), (e: unknown) => {
      assert.ok(e instanceof ModelError);
      assert.doesNotMatch(e.message, /Maximum call stack|RangeError/);
      assert.match(e.message, /nested too deeply/);
      return true;
    });
  });
  it('100k initializers in float_data are planned in linear time', async () => {
    const initializer: onnx.ITensorProto[] = [];
    const nodes: onnx.INodeProto[] = [];
    for (let i = 0; i < 100_000; i++) {
      initializer.push({ name: `w${i}`, dataType: DT.float32, dims: [1], floatData: [i] });
    }
    nodes.push(node('Identity', ['w0'], ['y'], 'id'));
    const file = path.join(dir, 'many.onnx');
    writeFileSync(file, model({ node: nodes, initializer, output: [value('y', DT.float32, [1])] }));
    const t0 = performance.now();
    const planned = await within(30_000, planOf(file));
    const ms = performance.now() - t0;
    assert.equal(planned.size, 100_000);
    assert.deepEqual(Array.from((planned.get('w99999')!.source as { values: Float32Array }).values), [99999]);
    assert.ok(ms < 20_000, `planning took ${ms} ms`);
  });
});
