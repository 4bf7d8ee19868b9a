/**
 * A model-file variant that quantizes activations says so (issue 20: every results view says which variants
 * quantize activations and on which calibration data): the demo's w8a8 export is read from its marker (with the
 * calibration it records), a QDQ model without the marker from its QuantizeLinear nodes on activations, a
 * weight-only QDQ model stays "weights only"; in the results file, the results view's texts and the CLI summary.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import Ajv from 'ajv';
import { onnx } from 'onnx-proto';
import { fileActivations, parseExportRecord } from '../../src/core/eval/fileActivations';
import { finiteReplacer } from '../../src/core/eval/results';
import { EXPORT_MARKER_KEY } from '../../src/core/export/marker';
import { variantActivationTag, variantActivationText } from '../../src/core/view/activationView';
import { evalSummary } from '../../src/node/eval/evalFormat';
import { evaluate } from '../../src/node/eval/evaluate';
import { writeMlp, writeQdqCopy } from '../fixtures/fileVariants';

const ROOT = path.join(__dirname, '..', '..');
const DEMO = path.join(ROOT, 'demo', 'mnist');
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-file-act-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const w8a8 = onnx.ModelProto.decode(readFileSync(path.join(DEMO, 'mnist_cnn.w8a8.onnx')));
const marker = w8a8.metadataProps?.find((m) => m.key === EXPORT_MARKER_KEY)?.value ?? undefined;
/** The same model as another tool would write it: no QuantLens metadata. */
function withoutMarker(): Uint8Array {
  const m = onnx.ModelProto.decode(readFileSync(path.join(DEMO, 'mnist_cnn.w8a8.onnx')));
  m.metadataProps = [];
  return onnx.ModelProto.encode(m).finish();
}
const activationQs = (w8a8.graph?.node ?? []).filter(
  (n) => n.opType === 'QuantizeLinear' && !(w8a8.graph?.initializer ?? []).some((t) => t.name === n.input?.[0]),
).length;

describe('model-file variants that quantize activations', () => {
  it('read from the export marker (with its calibration), or from QuantizeLinear nodes on activations', async () => {
    assert.equal(activationQs, 8);
    const fromMarker = fileActivations(w8a8, parseExportRecord(marker));
    assert.deepEqual(fromMarker, {
      bits: 8,
      signed: false,
      method: 'minmax',
      sites: 8,
      detected: 'marker',
      exportedFrom: 'w8a8',
      calibration: {
        source: 'split of the evaluation data',
        samples: 256,
        seed: 1,
        method: 'minmax',
        spec: 'cnn.quantlens.json',
      },
    });
    const bare = fileActivations(onnx.ModelProto.decode(withoutMarker()));
    assert.deepEqual(bare, { bits: 8, signed: false, method: 'unknown', sites: 8, detected: 'graph' });
    // A weight-only QDQ model (DequantizeLinear on its weights, no QuantizeLinear): weights only.
    const mlp = writeMlp(dir);
    const qdq = path.join(dir, 'mlp.int8-qdq.onnx');
    await writeQdqCopy(mlp, qdq);
    assert.equal(fileActivations(onnx.ModelProto.decode(readFileSync(qdq))), undefined);
  });

  it('the results, the results view and the CLI summary say so', async () => {
    for (const f of ['mnist_cnn.onnx', 'mnist_cnn.w8a8.onnx', 'images.idx.gz', 'labels.idx.gz', 'fields.csv'])
      copyFileSync(path.join(DEMO, f), path.join(dir, f));
    writeFileSync(path.join(dir, 'bare.onnx'), withoutMarker());
    const demo = JSON.parse(readFileSync(path.join(DEMO, 'cnn.quantlens.json'), 'utf8')) as Record<string, unknown>;
    const spec = path.join(dir, 'files.quantlens.json');
    // No calibration block: the export's activations are its own, recorded in its marker.
    const rest = { ...demo };
    delete rest.calibration;
    const variants = ['int8-channel', { model: 'mnist_cnn.w8a8.onnx' }, { model: 'bare.onnx', name: 'bare QDQ' }];
    writeFileSync(spec, JSON.stringify({ ...rest, variants, limit: 200, latency: false, sensitivity: false }));
    const r = await evaluate(spec, { version: 'test' });
    const byLabel = new Map(r.variants.map((v) => [v.label, v]));
    const exported = byLabel.get('mnist_cnn.w8a8.onnx')!;
    assert.equal(exported.kind, 'export');
    assert.equal(exported.activations?.detected, 'marker');
    assert.equal(exported.activations?.calibration?.samples, 256);
    assert.equal(byLabel.get('bare QDQ')!.activations?.detected, 'graph');
    assert.equal(byLabel.get('int8-channel')!.activations ?? null, null);
    assert.equal(variantActivationTag(exported), 'W8A8');
    assert.equal(
      variantActivationText(r, exported),
      'W8A8 · calibrated at export on 256 samples of a seeded split of the evaluation data of cnn.quantlens.json (minmax, seed 1)',
    );
    assert.equal(variantActivationTag(byLabel.get('bare QDQ')!), 'A8');
    assert.match(variantActivationText(r, byLabel.get('bare QDQ')!), /QuantizeLinear on 8 tensors.*not recorded/);
    assert.equal(variantActivationTag(byLabel.get('int8-channel')!), 'weights only');
    // The results file validates against its schema with the new fields.
    const schema = JSON.parse(readFileSync(path.join(ROOT, 'schemas', 'results.schema.json'), 'utf8')) as object;
    const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
    assert.ok(validate(JSON.parse(JSON.stringify(r, finiteReplacer))), JSON.stringify(validate.errors?.slice(0, 3)));
    const text = evalSummary(r);
    assert.match(
      text,
      /Activations quantized: mnist_cnn\.w8a8\.onnx \(uint8 asymmetric, minmax, 8 tensors, calibrated at export on 256 samples/,
    );
    assert.match(text, /Weights only \(activations float\): int8-channel/);
  });
});
