/**
 * Export: every scheme's export loads and runs in onnxruntime, and its weights, dequantized by onnxruntime's own
 * DequantizeLinear / MatMulNBits / Cast, equal the simulation bit for bit. Untouched fields survive byte for byte;
 * refused and cancelled exports leave no file; bad plans and opsets are refused naming the layer or node.
 */
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { ExportError } from '../../src/core/export/exportPlan';
import { isExportedModel } from '../../src/core/export/marker';
import { concat, lengthField, scanFields } from '../../src/core/export/wire';
import { exportModel } from '../../src/node/export/exportModel';
import { verifyExport } from '../../src/node/export/verifyExport';
import { WriteRefused } from '../../src/node/safeWrite';
import * as b from '../fixtures/onnxBuilder';

const ROOT = path.join(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'models');
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every format: int8 per channel / tensor / block, int2..int4 via MatMulNBits and DequantizeLinear int4, fp8, fp16, bf16. */
const SCHEMES = [
  'int8-channel',
  'int8-tensor',
  'int8-channel-asym',
  'int8-block32',
  'int6-block16-asym',
  'int4-block32',
  'int4-block128-asym',
  'int3-block32',
  'int2-block64',
  'int4-channel',
  'int4-tensor-asym',
  'fp16',
  'bf16',
  'fp8-e4m3',
  'fp8-e5m2',
];

/** Copies a model into the test folder (exports are written next to it). */
function copyModel(from: string, name = path.basename(from)): string {
  const to = path.join(dir, name);
  copyFileSync(from, to);
  return to;
}

async function exportAndVerify(
  model: string,
  scheme: string,
  extra: { accuracyLevel?: number; externalAbove?: number } = {},
) {
  const result = await exportModel(model, { scheme, version: 'test', force: true, ...extra });
  const weights = result.weights.filter((w) => !w.leftFloat).map((w) => ({ name: w.name, scheme: w.scheme }));
  const verification = await verifyExport({ source: model, output: result.output, opset: result.opset, weights });
  return { result, verification };
}

describe('export: every scheme on real onnxruntime', () => {
  const models = [
    path.join(ROOT, 'demo', 'mnist', 'mnist_mlp.onnx'),
    path.join(FIXTURES, 'torch_block.onnx'),
    path.join(FIXTURES, 'convnet.onnx'),
    path.join(FIXTURES, 'gemm_transb.onnx'),
    path.join(FIXTURES, 'paddle_lstm.onnx'),
  ];
  for (const source of models) {
    it(`${path.basename(source)}: loads, runs, and every weight equals the simulation bit for bit`, async () => {
      const model = copyModel(source);
      for (const scheme of SCHEMES) {
        const { result, verification } = await exportAndVerify(model, scheme);
        const exported = result.weights.filter((w) => !w.leftFloat);
        assert.ok(exported.length > 0, `${scheme}: some weight is exported`);
        assert.equal(verification.weights.length, exported.length, scheme);
        assert.ok(verification.checked > 0);
        for (const w of verification.weights) {
          assert.equal(w.mismatches, 0, `${scheme} ${w.name} (${w.op}): ${JSON.stringify(w.first)}`);
        }
        assert.ok(verification.run.ok, `${scheme}: ${verification.run.error}`);
        assert.equal(verification.run.nonFinite, 0, scheme);
        assert.ok(isExportedModel(readFileSync(result.output).subarray(0, 65536)), `${scheme}: marked`);
      }
    });
  }

  it('int4 blocks on MatMul become MatMulNBits; subgraph weights are listed as left float', async () => {
    const model = copyModel(path.join(FIXTURES, 'paddle_lstm.onnx'), 'lstm2.onnx');
    const { result } = await exportAndVerify(model, 'int4-block32');
    const left = result.weights.filter((w) => w.leftFloat);
    assert.ok(left.length > 0 && left.every((w) => /subgraph/.test(w.leftFloat!)), JSON.stringify(left));
    const mnist = copyModel(path.join(ROOT, 'demo', 'mnist', 'mnist_mlp.onnx'), 'nbits.onnx');
    const nbits = await exportAndVerify(mnist, 'int4-block32', { accuracyLevel: 4 });
    assert.ok(nbits.result.weights.every((w) => /MatMulNBits .*accuracy_level 4/.test(w.format)));
    // fc1 reads K = 784 values: not a multiple of 32, and the report says its last block is padded.
    assert.match(nbits.result.weights.find((w) => w.name === 'fc1.weight')!.format, /K=784 is not a multiple of 32/);
    // The stored weights are still the simulation's (checked at accuracy level 0); the model runs at level 4.
    assert.equal(nbits.verification.mismatched, 0);
    assert.ok(nbits.verification.run.ok);
  });

  it("an int4 embedding's Gather becomes com.microsoft GatherBlockQuantized where onnxruntime 1.30 takes it", async () => {
    // Gather(embedding [64, 48], ids) -> MatMul(proj [48, 8]): rows of 48 are 1.5 blocks of 32 (a shorter last one).
    const r = b.rng(5);
    const model = path.join(dir, 'embedding.onnx');
    writeFileSync(
      model,
      b.model(
        {
          name: 'embedding',
          node: [
            b.node('Gather', ['embed.weight', 'ids'], ['e'], '/embed/Gather', { axis: 0 }),
            b.node('MatMul', ['e', 'proj.weight'], ['y'], '/proj/MatMul'),
          ],
          initializer: [
            b.floatTensor('embed.weight', [64, 48], b.gaussian(r, 64 * 48, 0.5)),
            b.floatTensor('proj.weight', [48, 8], b.gaussian(r, 48 * 8, 0.2)),
          ],
          input: [b.value('ids', b.DT.int64, ['batch', 5])],
          output: [b.value('y', b.DT.float32, ['batch', 5, 8])],
        },
        { opsets: [['', 13]] },
      ),
    );
    const expected: Record<string, RegExp> = {
      // int4 / int3 symmetric (int4 storage, no zero point) and asymmetric (uint4 with packed zero points).
      'int4-block32': /-> GatherBlockQuantized int4 blocks of 32 along each row \(48 is not a multiple of 32/,
      'int3-block16': /-> GatherBlockQuantized int4 blocks of 16 along each row$/,
      'int4-block16-asym': /-> GatherBlockQuantized uint4 blocks of 16 along each row with zero points$/,
      // Not blocked (per row, per tensor): GatherBlockQuantized takes blocks only; DequantizeLinear int4 (opset 21).
      'int4-channel': /-> DequantizeLinear int4 per axis 0$/,
      'int4-tensor-asym': /-> DequantizeLinear uint4 per tensor with zero point$/,
    };
    for (const [scheme, format] of Object.entries(expected)) {
      const { result, verification } = await exportAndVerify(model, scheme);
      const embed = result.weights.find((w) => w.name === 'embed.weight')!;
      assert.match(embed.format, format, scheme);
      const check = verification.weights.find((w) => w.name === 'embed.weight')!;
      assert.equal(check.op, format.source.includes('Gather') ? 'GatherBlockQuantized' : 'DequantizeLinear', scheme);
      assert.equal(check.values, 64 * 48);
      assert.equal(check.mismatches, 0, `${scheme}: ${JSON.stringify(check.first)}`);
      assert.ok(verification.run.ok, `${scheme}: ${verification.run.error}`);
    }
  });

  it('writes tensor data to an external data file when the output would be too large for one protobuf', async () => {
    const model = copyModel(path.join(ROOT, 'demo', 'mnist', 'mnist_mlp.onnx'), 'big.onnx');
    const { result, verification } = await exportAndVerify(model, 'int8-channel', { externalAbove: 0 });
    assert.ok(result.externalData && existsSync(result.externalData));
    assert.ok(readFileSync(result.output).length < 10_000, 'the weights are not inside the model');
    assert.equal(verification.mismatched, 0);
    assert.ok(verification.run.ok, verification.run.error);
  });
});

/** A model with IR 10 fields onnx-proto does not know: graph and node metadata_props, an unknown model field. */
function modelWithNewerFields(): Uint8Array {
  const r = b.rng(3);
  const base = b.model(
    {
      name: 'g',
      docString: 'graph doc',
      node: [
        { ...b.node('MatMul', ['x', 'w1'], ['h'], 'mm1'), docString: 'first layer' },
        b.node('Relu', ['h'], ['r'], 'relu'),
        b.node('MatMul', ['r', 'w2'], ['y'], 'mm2'),
      ],
      initializer: [
        b.floatTensor('w1', [64, 32], b.gaussian(r, 64 * 32)),
        b.floatTensor('w2', [32, 8], b.gaussian(r, 32 * 8)),
      ],
      input: [b.value('x', b.DT.float32, ['batch', 64])],
      output: [b.value('y', b.DT.float32, ['batch', 8])],
    },
    { irVersion: 10, metadata: { author: 'someone' }, docString: 'model doc' },
  );
  const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
  const entry = concat([lengthField(1, utf8('k')), lengthField(2, utf8('v'))]);
  const fields = scanFields(base);
  const parts: Uint8Array[] = [];
  for (const f of fields) {
    if (f.field !== 7) {
      parts.push(base.subarray(f.start, f.end));
      continue;
    }
    // Graph: node 'relu' gets metadata_props (NodeProto field 9), the graph its own (field 16).
    const graphFields = scanFields(base, f.valueStart, f.end);
    const inner = graphFields.map((g, i) =>
      g.field === 1 && i === 1
        ? lengthField(1, concat([base.subarray(g.valueStart, g.end), lengthField(9, entry)]))
        : base.subarray(g.start, g.end),
    );
    parts.push(lengthField(7, concat([...inner, lengthField(16, entry)])));
  }
  parts.push(lengthField(99, utf8('a field from the future')));
  return concat(parts);
}

describe('export: the rest of the model is kept field for field', () => {
  it('copies untouched fields byte for byte, newer than onnx-proto included', async () => {
    const model = path.join(dir, 'newer.onnx');
    const source = modelWithNewerFields();
    writeFileSync(model, source);
    const plan = path.join(dir, 'newer.qplan.json');
    writeFileSync(plan, JSON.stringify({ default: 'fp32', layers: { mm2: 'int8-channel' } }));
    const result = await exportModel(model, { plan, version: 'test' });
    assert.equal(path.basename(result.output), 'newer.newer.onnx');
    const out = readFileSync(result.output);
    const text = (buf: Uint8Array): string => Buffer.from(buf).toString('latin1');
    const sourceTop = scanFields(source);
    for (const f of sourceTop.filter((x) => x.field !== 7 && x.field !== 8 && x.field !== 1)) {
      assert.ok(text(out).includes(text(source.subarray(f.start, f.end))), `model field ${f.field} kept`);
    }
    const graph = sourceTop.find((f) => f.field === 7)!;
    const kept = scanFields(source, graph.valueStart, graph.end).filter(
      (g) =>
        !(g.field === 5 && text(source.subarray(g.start, g.end)).includes('w2')) &&
        !(g.field === 1 && text(source.subarray(g.start, g.end)).includes('mm2')),
    );
    assert.ok(kept.length >= 7);
    for (const g of kept)
      assert.ok(text(out).includes(text(source.subarray(g.start, g.end))), `graph field ${g.field} kept`);
    const weights = result.weights.filter((w) => !w.leftFloat).map((w) => ({ name: w.name, scheme: w.scheme }));
    const v = await verifyExport({ source: model, output: result.output, opset: result.opset, weights });
    assert.equal(v.mismatched, 0);
    assert.ok(v.run.ok, v.run.error);
  });
});

describe('export: bad input and refused writes leave no file', () => {
  const mnist = (): string => copyModel(path.join(ROOT, 'demo', 'mnist', 'mnist_mlp.onnx'), 'refuse.onnx');
  const files = (): string[] => readdirSync(dir).filter((f) => f.startsWith('refuse') || f.startsWith('.refuse'));

  it('a plan naming a layer the model lacks is refused naming it', async () => {
    const model = mnist();
    const plan = path.join(dir, 'unknown.qplan.json');
    writeFileSync(plan, JSON.stringify({ default: 'int8-channel', layers: { '/fc9/MatMul': 'int4-block32' } }));
    await assert.rejects(
      exportModel(model, { plan, version: 'test' }),
      (e: Error) => e instanceof ExportError && e.message.includes("'/fc9/MatMul'"),
    );
    assert.deepEqual(files(), ['refuse.onnx']);
  });

  it('never writes over the source, through a symlink, or over a file QuantLens did not make', async () => {
    const model = mnist();
    await assert.rejects(exportModel(model, { scheme: 'fp16', output: model, version: 'test' }), WriteRefused);
    const link = path.join(dir, 'refuse.link.onnx');
    symlinkSync(path.join(dir, 'elsewhere.onnx'), link);
    await assert.rejects(exportModel(model, { scheme: 'fp16', output: link, version: 'test' }), WriteRefused);
    assert.ok(!existsSync(path.join(dir, 'elsewhere.onnx')));
    const theirs = path.join(dir, 'refuse.theirs.onnx');
    writeFileSync(theirs, 'not ours');
    await assert.rejects(
      exportModel(model, { scheme: 'fp16', output: theirs, version: 'test' }),
      (e: unknown) => e instanceof WriteRefused && e.needsConfirmation,
    );
    assert.equal(readFileSync(theirs, 'utf8'), 'not ours');
    // An earlier export is QuantLens's: replaced without asking.
    const ours = (await exportModel(model, { scheme: 'fp16', version: 'test' })).output;
    await exportModel(model, { scheme: 'fp16', version: 'test' });
    assert.ok(existsSync(ours));
    rmSync(ours);
    rmSync(link);
    rmSync(theirs);
    assert.deepEqual(files(), ['refuse.onnx']);
  });

  it('a cancelled export leaves no file, not even a temporary one', async () => {
    const model = mnist();
    const abort = new AbortController();
    const run = exportModel(model, {
      scheme: 'int8-channel',
      version: 'test',
      signal: abort.signal,
      onProgress: () => abort.abort(),
    });
    await assert.rejects(run);
    assert.deepEqual(files(), ['refuse.onnx']);
  });

  it('refuses to raise the opset over a node whose meaning changes, naming it', async () => {
    const model = path.join(dir, 'reduce.onnx');
    writeFileSync(
      model,
      b.model({
        node: [b.node('MatMul', ['x', 'w'], ['h'], 'mm'), b.node('ReduceMean', ['h'], ['y'], 'mean', { axes: [1] })],
        initializer: [b.floatTensor('w', [8, 4], b.gaussian(b.rng(1), 32))],
        input: [b.value('x', b.DT.float32, [1, 8])],
        output: [b.value('y', b.DT.float32, [1, 1])],
      }),
    );
    await assert.rejects(
      exportModel(model, { scheme: 'int4-channel', version: 'test' }),
      (e: Error) => e instanceof ExportError && /'mean' \(ReduceMean\)/.test(e.message) && /opset 21/.test(e.message),
    );
    // int8 per channel needs only opset 13: exported.
    const ok = await exportAndVerify(model, 'int8-channel');
    assert.equal(ok.verification.mismatched, 0);
    assert.ok(!existsSync(path.join(dir, 'reduce.int4-channel.onnx')));
  });

  it('a model without float32 weights is refused', async () => {
    const model = copyModel(path.join(FIXTURES, 'int8_qdq.onnx'));
    await assert.rejects(exportModel(model, { scheme: 'int4-block32', version: 'test' }), ExportError);
    assert.ok(!existsSync(path.join(dir, 'int8_qdq.int4-block32.onnx')));
  });
});
