/** `quantlens diff`: a model against itself is exact; an export's weights show the scheme's SQNR, matched by layer. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeModel } from '../../src/core/onnx/decode';
import { decodeRaw } from '../../src/core/onnx/tensorValues';
import { collectWeights } from '../../src/core/onnx/weights';
import { fakeQuantize } from '../../src/core/quant/fakeQuant';
import { parseScheme } from '../../src/core/quant/schemes';
import { diffModels } from '../../src/node/export/diffModels';
import { exportModel } from '../../src/node/export/exportModel';
import { readFileSync } from 'node:fs';

const ROOT = path.join(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-diff-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const model = path.join(dir, 'mnist_mlp.onnx');
copyFileSync(path.join(ROOT, 'demo', 'mnist', 'mnist_mlp.onnx'), model);

/** SQNR of fakeQuantize (the simulation) on MNIST's MatMul weights [K, N], per column. */
function simulatedSqnr(name: string, scheme: string): number {
  const bytes = readFileSync(model);
  const ref = collectWeights(decodeModel(bytes), bytes).find((w) => w.name === name)!;
  const s = ref.storage as { offset: number; length: number };
  const w = decodeRaw(bytes.subarray(s.offset, s.offset + s.length), ref.dtype, ref.elements) as Float32Array;
  const hat = fakeQuantize(w, { rows: ref.dims[0], cols: ref.dims[1], channelAxis: 1 }, parseScheme(scheme));
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < w.length; i++) {
    signal += w[i] * w[i];
    noise += (w[i] - hat[i]) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

describe('quantlens diff', () => {
  it('a model against itself is exact', async () => {
    const d = await diffModels(model, model);
    assert.equal(d.weights.length, 3);
    assert.ok(d.weights.every((w) => w.exact && w.sqnrDb === Infinity && w.matchedBy === 'name'));
    assert.deepEqual([d.onlyInOriginal, d.onlyInQuantized], [[], []]);
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), 'diff', model, model, '--json'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { weights: { sqnrDb: unknown; exact: boolean }[] };
    assert.ok(json.weights.every((w) => w.sqnrDb === 'Infinity' && w.exact));
  });

  for (const scheme of ['int4-block32', 'int8-channel-asym', 'fp8-e4m3']) {
    it(`an ${scheme} export: matched by layer, the stored format, the simulation's SQNR`, async () => {
      const { output } = await exportModel(model, { scheme, version: 'test', force: true });
      const d = await diffModels(model, output);
      assert.equal(d.weights.length, 3, JSON.stringify(d));
      assert.deepEqual([d.onlyInOriginal, d.onlyInQuantized], [[], []]);
      for (const w of d.weights) {
        assert.equal(w.matchedBy, 'layer');
        assert.ok(!w.exact);
        assert.ok(Math.abs(w.sqnrDb - simulatedSqnr(w.name, scheme)) < 1e-9, `${w.name}: ${w.sqnrDb}`);
      }
      if (scheme === 'int4-block32') assert.ok(d.weights.every((w) => /packed \[N=/.test(w.format)));
    });
  }

  it('weights only in one model are listed', async () => {
    const d = await diffModels(
      path.join(ROOT, 'test', 'fixtures', 'models', 'mlp.onnx'),
      path.join(ROOT, 'test', 'fixtures', 'models', 'int8_qdq.onnx'),
    );
    assert.ok(d.onlyInOriginal.length > 0 && d.onlyInQuantized.length > 0);
  });
});
