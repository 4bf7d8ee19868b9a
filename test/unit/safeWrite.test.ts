/**
 * Writes never go through a symlink, only onto a regular file or a new name, atomically, and never over a file
 * QuantLens did not make without confirmation; the CLI's results write obeys the same rules (exit 2).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
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
import { isQuantLensFile, writeDecision } from '../../src/core/files/writePolicy';
import { parsePlan } from '../../src/core/eval/plan';
import { safeWriteFile, WriteRefused } from '../../src/node/safeWrite';
import { writeJson } from '../../src/cli/jsonStream';
import { toJson } from '../../src/core/view/reportFormat';
import { DT, floatTensor, model, node, value } from '../fixtures/onnxBuilder';

const ROOT = path.join(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-write-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const RESULTS = `${JSON.stringify({ format: 'quantlens-eval-results', version: 1 })}\n`;

describe('write policy (pure)', () => {
  it('refuses symlinks and special files, asks before overwriting an unmarked file', () => {
    assert.equal(writeDecision('a', { kind: 'missing' }).action, 'write');
    assert.equal(writeDecision('a', { kind: 'file', marked: true }).action, 'write');
    assert.equal(writeDecision('a', { kind: 'file', marked: false }).action, 'confirm');
    assert.equal(writeDecision('a', { kind: 'file', marked: false }, true).action, 'write');
    assert.equal(writeDecision('a', { kind: 'symlink', to: '../x' }, true).action, 'refuse');
    assert.equal(writeDecision('a', { kind: 'other', what: 'a FIFO' }, true).action, 'refuse');
  });
  it('recognises the files QuantLens makes by their marker', () => {
    assert.equal(isQuantLensFile(RESULTS), true);
    assert.equal(isQuantLensFile('{"generatedBy":"QuantLens","default":"int8-channel"}'), true);
    assert.equal(isQuantLensFile('{"default":"int8-channel"}'), false);
    assert.equal(isQuantLensFile('export PATH=$PATH'), false);
  });
  it('the plan schema accepts generatedBy', () => {
    const parsed = parsePlan('{"generatedBy":"QuantLens","default":"int8-channel","layers":{}}');
    assert.deepEqual(
      parsed.problems.map((p) => p.message),
      [],
    );
    assert.ok(parsed.plan);
  });
});

describe('safeWriteFile', () => {
  it('a results file symlinked to ../somefile is refused and the target left untouched', async () => {
    const folder = mkdtempSync(path.join(dir, 'link-'));
    const victim = path.join(dir, 'bashrc');
    writeFileSync(victim, 'echo hello\n');
    symlinkSync('../bashrc', path.join(folder, 'x.results.json'));
    await assert.rejects(
      safeWriteFile(path.join(folder, 'x.results.json'), RESULTS, { folder, force: true }),
      (e: unknown) =>
        e instanceof WriteRefused &&
        /is a symlink \(to \.\.\/bashrc\); QuantLens never writes through a symlink/.test(e.message),
    );
    assert.equal(readFileSync(victim, 'utf8'), 'echo hello\n');
  });
  it('a dangling plan symlink creates no file', async () => {
    const folder = mkdtempSync(path.join(dir, 'dangling-'));
    const outside = path.join(dir, 'created-outside.json');
    symlinkSync(outside, path.join(folder, 'x.qplan.json'));
    await assert.rejects(safeWriteFile(path.join(folder, 'x.qplan.json'), '{}', { folder }), WriteRefused);
    assert.equal(existsSync(outside), false);
    assert.ok(lstatSync(path.join(folder, 'x.qplan.json')).isSymbolicLink());
  });
  it('writes a new name, replaces a marked file, asks for an unmarked one; no temporary file is left', async () => {
    const folder = mkdtempSync(path.join(dir, 'plain-'));
    const file = path.join(folder, 'x.results.json');
    await safeWriteFile(file, RESULTS, { folder });
    await safeWriteFile(file, RESULTS.replace('1', '2'), { folder });
    assert.match(readFileSync(file, 'utf8'), /"version":2/);
    writeFileSync(file, 'mine\n');
    await assert.rejects(
      safeWriteFile(file, RESULTS, { folder }),
      (e: unknown) => e instanceof WriteRefused && e.needsConfirmation,
    );
    assert.equal(readFileSync(file, 'utf8'), 'mine\n');
    await safeWriteFile(file, RESULTS, { folder, force: true });
    assert.equal(readFileSync(file, 'utf8'), RESULTS);
    assert.deepEqual(readdirSync(folder), ['x.results.json']);
  });
  it('a derived name whose folder resolves elsewhere is refused', async () => {
    const folder = mkdtempSync(path.join(dir, 'folder-'));
    const elsewhere = mkdtempSync(path.join(dir, 'elsewhere-'));
    symlinkSync(elsewhere, path.join(folder, 'sub'));
    await assert.rejects(safeWriteFile(path.join(folder, 'sub', 'x.json'), '{}', { folder }), /not inside/);
    assert.deepEqual(readdirSync(elsewhere), []);
  });
  it('a folder or a FIFO as target is refused', async () => {
    const folder = mkdtempSync(path.join(dir, 'special-'));
    mkdirSync(path.join(folder, 'd.json'));
    await assert.rejects(
      safeWriteFile(path.join(folder, 'd.json'), '{}', { force: true }),
      /a folder, not a regular file/,
    );
  });
});

describe('CLI: writes and exit codes', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
      encoding: 'utf8',
      cwd: ROOT,
      timeout: 120_000,
    });
  const folder = mkdtempSync(path.join(dir, 'cli-'));
  writeFileSync(
    path.join(folder, 'm.onnx'),
    model({
      node: [node('MatMul', ['x', 'w'], ['logits'], '/fc/MatMul')],
      initializer: [
        floatTensor(
          'w',
          [4, 3],
          new Float32Array(12).map((_, i) => Math.sin(i + 1)),
        ),
      ],
      input: [value('x', DT.float32, ['batch', 4])],
      output: [value('logits', DT.float32, ['batch', 3])],
    }),
  );
  writeFileSync(
    path.join(folder, 'data.jsonl'),
    Array.from({ length: 12 }, (_, i) => JSON.stringify({ x: [i % 3, 1, (i * 7) % 5, 2], label: i % 3 })).join('\n'),
  );
  writeFileSync(
    path.join(folder, 's.quantlens.json'),
    JSON.stringify({
      model: 'm.onnx',
      task: 'classification',
      data: { path: 'data.jsonl' },
      variants: ['int8-channel'],
      sweep: false,
      sensitivity: false,
    }),
  );
  const spec = path.join(folder, 's.quantlens.json');
  const results = path.join(folder, 's.results.json');

  it('eval refuses a results file symlinked outside (exit 2, target untouched)', () => {
    const victim = path.join(dir, 'victim.sh');
    writeFileSync(victim, 'echo safe\n');
    symlinkSync(victim, results);
    const r = cli('eval', spec, '--force');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /is a symlink/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(readFileSync(victim, 'utf8'), 'echo safe\n');
    rmSync(results);
  });
  it('eval does not overwrite an unmarked file unless --force', () => {
    writeFileSync(results, 'my notes\n');
    const r = cli('eval', spec);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /not made by QuantLens.*--force/s);
    assert.equal(readFileSync(results, 'utf8'), 'my notes\n');
    const forced = cli('eval', spec, '--force');
    assert.ok(forced.status === 0 || forced.status === 1, forced.stderr);
    assert.equal(JSON.parse(readFileSync(results, 'utf8')).format, 'quantlens-eval-results');
    const again = cli('eval', spec);
    assert.ok(again.status === 0 || again.status === 1, again.stderr);
  });
  it('a FIFO model is bad input (exit 2) with a plain message', () => {
    const fifo = path.join(folder, 'fifo.onnx');
    spawnSync('mkfifo', [fifo]);
    const r = cli('inspect', fifo);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /FIFO \(named pipe\); QuantLens reads only regular files/);
  });
});

describe('streamed JSON', () => {
  it('prints exactly what JSON.stringify prints, non-finite numbers as strings', () => {
    const v = {
      a: [1, Infinity, { b: [], c: {}, d: 'x\ny', e: undefined, f: [null, NaN] }],
      g: { h: [[1], { i: -Infinity }] },
    };
    for (const depth of [0, 1, 3, 6]) {
      let out = '';
      writeJson((s) => (out += s), v, depth);
      assert.equal(out, toJson(v));
    }
  });
});
