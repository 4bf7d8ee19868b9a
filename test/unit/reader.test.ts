import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { decodeModel } from '../../src/core/onnx/decode';
import { dtypeInfo, packedByteLength } from '../../src/core/onnx/dtypes';
import { ModelError } from '../../src/core/onnx/errors';
import { externalLocationProblem } from '../../src/core/onnx/externalData';
import { sniffFormat } from '../../src/core/onnx/sniff';
import { readModelOverview } from '../../src/node/modelFile';
import { DT, externalTensor, model, node, value } from '../fixtures/onnxBuilder';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('format sniffing', () => {
  it('recognises other formats from their leading bytes', () => {
    assert.equal(sniffFormat(new Uint8Array()).kind, 'empty');
    assert.deepEqual(sniffFormat(new Uint8Array([0x50, 0x4b, 3, 4, 0])).kind, 'other');
    assert.match((sniffFormat(enc('GGUF....')) as { format: string }).format, /GGUF/);
    assert.match((sniffFormat(enc('\0\0\0\0TFL3')) as { format: string }).format, /TensorFlow Lite/);
    assert.match((sniffFormat(enc('ir_version: 8\ngraph {')) as { format: string }).format, /ONNX text/);
    assert.equal(sniffFormat(new Uint8Array([0x08, 0x08, 0x12, 0x03])).kind, 'onnx-protobuf');
  });
  it('names the format in the error', () => {
    assert.throws(
      () => decodeModel(new Uint8Array([0x50, 0x4b, 3, 4, 1, 2])),
      (e: unknown) =>
        e instanceof ModelError &&
        e.info.code === 'other-format' &&
        /ZIP archive/.test(e.message) &&
        /torch\.onnx\.export/.test(e.message),
    );
  });
  it('rejects a protobuf without graph or without ir_version', () => {
    assert.throws(() => decodeModel(new Uint8Array([0x08, 0x08])), /no graph/);
    assert.throws(() => decodeModel(new Uint8Array([0x3a, 0x00])), /ir_version/);
  });
});

describe('dtypes', () => {
  it('sizes sub-byte and wide types exactly', () => {
    assert.equal(dtypeInfo(22).name, 'int4');
    assert.equal(packedByteLength(22, 5), 3);
    assert.equal(packedByteLength(21, 4), 2);
    assert.equal(packedByteLength(7, 3), 24);
    assert.equal(packedByteLength(16, 3), 6);
    assert.equal(dtypeInfo(99).name, 'dtype(99)');
  });
});

describe('external data locations', () => {
  it('accepts relative paths inside the folder and refuses the rest', () => {
    assert.equal(externalLocationProblem('weights.bin'), undefined);
    assert.equal(externalLocationProblem('data/weights.bin'), undefined);
    assert.match(externalLocationProblem('/etc/passwd')!, /absolute/);
    assert.match(externalLocationProblem('C:\\w.bin')!, /absolute/);
    assert.match(externalLocationProblem('../secret.bin')!, /'\.\.'/);
    assert.match(externalLocationProblem('a/../../b')!, /'\.\.'/);
    assert.match(externalLocationProblem('')!, /no location/);
  });

  const modelWith = (location: string, length = 64): Uint8Array =>
    model({
      node: [node('Identity', ['w'], ['y'], 'id')],
      initializer: [externalTensor('w', DT.float32, [16], location, 0, length)],
      output: [value('y', DT.float32, [16])],
    });

  it('refuses a symlink that leaves the model folder, naming tensor and path', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'ql-ext-'));
    const folder = path.join(root, 'model');
    mkdirSync(folder);
    writeFileSync(path.join(root, 'outside.bin'), new Uint8Array(64));
    symlinkSync(path.join(root, 'outside.bin'), path.join(folder, 'link.bin'));
    writeFileSync(path.join(folder, 'm.onnx'), modelWith('link.bin'));
    await assert.rejects(
      readModelOverview(path.join(folder, 'm.onnx')),
      (e: unknown) =>
        e instanceof ModelError &&
        e.info.code === 'external-data' &&
        e.info.tensor === 'w' &&
        /outside the model folder/.test(e.message),
    );
    writeFileSync(path.join(folder, 'dots.onnx'), modelWith('../outside.bin'));
    await assert.rejects(readModelOverview(path.join(folder, 'dots.onnx')), /'\.\.'/);
  });

  it('reports a data file shorter than the declared ranges', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'ql-ext-'));
    writeFileSync(path.join(folder, 'short.bin'), new Uint8Array(10));
    writeFileSync(path.join(folder, 'm.onnx'), modelWith('short.bin'));
    await assert.rejects(readModelOverview(path.join(folder, 'm.onnx')), /too short: .*10 bytes.*byte 64/);
  });

  it('does not read external data for the overview (declared length only)', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'ql-ext-'));
    writeFileSync(path.join(folder, 'w.bin'), new Uint8Array(64).fill(0xff));
    writeFileSync(path.join(folder, 'm.onnx'), modelWith('w.bin'));
    const { overview } = await readModelOverview(path.join(folder, 'm.onnx'));
    assert.equal(overview.weightBytes, 64);
    assert.deepEqual(overview.externalFiles, [
      { location: 'w.bin', tensors: 1, bytes: 64, requiredSize: 64, firstTensor: 'w' },
    ]);
    assert.equal(readFileSync(path.join(folder, 'w.bin')).length, 64);
  });
});
