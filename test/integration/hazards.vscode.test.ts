/**
 * Hostile models opened one after another in the real extension host (issue 18): after each, a command round
 * trip must answer within a generous bound (the worst time is printed as a figure), and the inspector shows an
 * error view naming the problem or, for a model whose one weight is hostile, the model with that weight marked.
 * The host's RSS after each hazard stays within 1 GiB of what it was before the first (the worst is printed).
 * For the large-count models (100k initializers, 1M nodes, 10 MB doc_string, 100k metadata props) the host's
 * longest event-loop block while opening (and analysing) is printed too.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { DT, floatTensor, model, node, rawTensor, value } from '../fixtures/onnxBuilder';
import type { RenderReport } from '../../src/testHooks';
import { api, closeAllEditors, openInInspector, waitFor, workspaceDir } from './helpers';

const nbits = (attrs: Record<string, number>): Uint8Array =>
  model(
    {
      node: [node('MatMulNBits', ['x', 'B', 'scales'], ['y'], 'nb', attrs, 'com.microsoft')],
      initializer: [
        rawTensor('B', DT.uint8, [1, 1, 16], new Uint8Array(16).fill(0x88)),
        floatTensor('scales', [1], new Float32Array([0.5])),
      ],
      input: [value('x', DT.float32, [1, 32])],
      output: [value('y', DT.float32, [1, 1])],
    },
    {
      opsets: [
        ['', 17],
        ['com.microsoft', 1],
      ],
    },
  );

/**
 * Writes a chain of `count` Relu nodes from x to y (float32 [1]) to `file`, encoded directly by a child Node
 * process: building 1M nodes here would grow the extension host's own memory, which the test watches.
 */
function writeReluChain(file: string, count: number): void {
  const script = `
    const fs = require('node:fs');
    const [file, count] = [process.argv[1], Number(process.argv[2])];
    const varint = (n) => { const o = []; for (; n > 127; n = Math.floor(n / 128)) o.push((n & 127) | 128); o.push(n); return Buffer.from(o); };
    const field = (tag, p) => Buffer.concat([varint((tag << 3) | 2), varint(p.length), p]);
    const str = (tag, s) => field(tag, Buffer.from(s));
    const parts = [];
    for (let i = 0; i < count; i++) {
      const input = i === 0 ? 'x' : 't' + i, output = i === count - 1 ? 'y' : 't' + (i + 1);
      parts.push(field(1, Buffer.concat([str(1, input), str(2, output), str(3, 'n' + i), str(4, 'Relu')])));
    }
    const type = field(2, field(1, Buffer.concat([Buffer.from([8, 1]), field(2, field(1, Buffer.from([8, 1])))])));
    const info = (name) => Buffer.concat([str(1, name), type]);
    const graph = Buffer.concat([...parts, str(2, 'chain'), field(11, info('x')), field(12, info('y'))]);
    fs.writeFileSync(file, Buffer.concat([Buffer.from([8, 8]), field(8, Buffer.from([0x10, 0x11])), field(7, graph)]));
  `;
  execFileSync(process.execPath, ['-e', script, file, String(count)], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
}

describe('Hazard models keep the extension host responsive', () => {
  let dir = '';
  let worst = 0;
  // This test runs inside the extension host: its RSS is the host's.
  let baseRss = 0;
  let worstRss = 0;
  let worstBlock = 0;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  /** The host's longest event-loop block (ms) since the last call. */
  const block = (): number => {
    const ms = loop.max / 1e6;
    loop.reset();
    worstBlock = Math.max(worstBlock, ms);
    return ms;
  };
  before(() => {
    loop.enable();
    dir = mkdtempSync(path.join(workspaceDir(), 'hazards-'));
    baseRss = process.memoryUsage().rss;
  });
  after(async () => {
    console.log(`hazards: worst command round trip ${worst.toFixed(0)} ms`);
    console.log(`hazards: worst event-loop block of the large-count models ${worstBlock.toFixed(0)} ms`);
    loop.disable();
    const mib = (b: number): string => (b / 2 ** 20).toFixed(0);
    console.log(`hazards: host RSS ${mib(baseRss)} MiB before, worst ${mib(worstRss)} MiB after a hazard`);
    await closeAllEditors();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Times a round trip through the host's command registry. */
  async function roundTrip(): Promise<void> {
    const t0 = Date.now();
    await vscode.commands.getCommands(true);
    const ms = Date.now() - t0;
    worst = Math.max(worst, ms);
    assert.ok(ms < 10_000, `a command round trip took ${ms} ms`);
    const rss = process.memoryUsage().rss;
    worstRss = Math.max(worstRss, rss);
    assert.ok(rss < baseRss + 2 ** 30, `host RSS ${rss} bytes, ${baseRss} before the hazards`);
  }

  const refused: [string, (file: string) => void, RegExp][] = [
    ['fifo.onnx', (f) => execFileSync('mkfifo', [f]), /FIFO/],
    ['zero.onnx', (f) => symlinkSync('/dev/zero', f), /character device/],
    ['urandom.onnx', (f) => symlinkSync('/dev/urandom', f), /character device/],
  ];
  for (const [name, make, pattern] of refused) {
    it(`${name}: an error view naming the problem, the host answers`, async () => {
      const file = path.join(dir, name);
      make(file);
      const report = await openInInspector(vscode.Uri.file(file));
      await roundTrip();
      assert.equal(report.status, 'error');
      assert.match(String(report.fields.errorMessage), pattern);
      await closeAllEditors();
    });
  }

  const marked: [string, Uint8Array][] = [
    ['huge_nbits.onnx', nbits({ K: 65536, N: 65536, bits: 4, block_size: 32 })],
    ['block0.onnx', nbits({ K: 32, N: 1, bits: 4, block_size: 0 })],
  ];
  for (const [name, bytes] of marked) {
    it(`${name}: the model opens, the hostile weight is marked, the host answers`, async () => {
      const file = path.join(dir, name);
      writeFileSync(file, bytes);
      const uri = vscode.Uri.file(file);
      const report = await openInInspector(uri);
      await roundTrip();
      assert.equal(report.status, 'ready', JSON.stringify(report.fields));
      const ql = await api();
      // The inspector analyses on open: the hostile weight is listed with its problem, the rest is analysed.
      await waitFor('the analysis to finish', () => ql.inspectorStatus(uri)?.state === 'done', 60_000);
      await roundTrip();
      await closeAllEditors();
    });
  }

  it('100k initializers: the host answers while the model opens and is analysed', async function () {
    this.timeout(180_000);
    const file = path.join(dir, 'many.onnx');
    const initializer = Array.from({ length: 100_000 }, (_, i) => ({
      name: `w${i}`,
      dataType: DT.float32,
      dims: [1],
      floatData: [i],
    }));
    writeFileSync(
      file,
      model({ node: [node('Identity', ['w0'], ['y'], 'id')], initializer, output: [value('y', DT.float32, [1])] }),
    );
    const uri = vscode.Uri.file(file);
    const ql = await api();
    block();
    const t0 = Date.now();
    // Command round trips all along the open (reading, the plan's pages, the table, the analysis).
    let opening = true;
    let worstDuring = 0;
    const probe = (async () => {
      while (opening) {
        const t = Date.now();
        await vscode.commands.getCommands(true);
        worstDuring = Math.max(worstDuring, Date.now() - t);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await vscode.commands.executeCommand('vscode.openWith', uri, 'quantlens.inspector');
      const report = await ql.waitForRender(uri, (r) => r.status !== 'loading', 120_000);
      assert.equal(report.status, 'ready');
      await waitFor('the analysis of 100k weights', () => ql.inspectorStatus(uri)?.state === 'done', 120_000);
    } finally {
      opening = false;
      await probe;
    }
    const longest = block();
    worst = Math.max(worst, worstDuring);
    console.log(
      `hazards: 100k initializers shown and analysed in ${Date.now() - t0} ms, event loop blocked ${longest.toFixed(0)} ms at most, ` +
        `worst command round trip meanwhile ${worstDuring} ms`,
    );
    // Generous bounds (the target is 200 ms): the host cloned the whole plan in one message before, 6-7 s.
    assert.ok(worstDuring < 10_000, `a command round trip took ${worstDuring} ms while the model opened`);
    assert.ok(longest < 2_000, `the host's event loop was blocked ${longest.toFixed(0)} ms while the model opened`);
    await roundTrip();
    await closeAllEditors();
  });

  const identity = { node: [node('Identity', ['x'], ['y'], 'id')], input: [value('x', DT.float32, [1])] };
  const metadata = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`key${i}`, `value${i}`]));
  const bounded: [string, () => Uint8Array, (report: RenderReport) => void][] = [
    [
      '10 MB doc_string',
      () => model({ ...identity, output: [value('y', DT.float32, [1])] }, { docString: 'd'.repeat(10_000_000) }),
      (r) => assert.ok(String(r.fields.docString).length < 10_000, 'the doc string is shown cut'),
    ],
    [
      '100k metadata props',
      () => model({ ...identity, output: [value('y', DT.float32, [1])] }, { metadata }),
      (r) => assert.ok((r.tables.metadata?.length ?? 0) <= 1000, 'the metadata table is shown cut'),
    ],
  ];
  for (const [name, make, check] of bounded) {
    it(`${name}: the overview is shown bounded and the host answers`, async () => {
      const file = path.join(dir, `${name.replace(/\W+/g, '_')}.onnx`);
      writeFileSync(file, make());
      block();
      const t0 = Date.now();
      const report = await openInInspector(vscode.Uri.file(file));
      console.log(
        `hazards: ${name} shown in ${Date.now() - t0} ms, event loop blocked ${block().toFixed(0)} ms at most`,
      );
      await roundTrip();
      assert.equal(report.status, 'ready', JSON.stringify(report.fields).slice(0, 500));
      check(report);
      await closeAllEditors();
    });
  }

  // Last: decoding 1M nodes in the overview worker (a thread of the host process) raises the host's RSS for a
  // while, which the bound of the tests above would count; its own peak is printed, not bounded.
  it('1M nodes: the model opens and the host answers', async function () {
    this.timeout(300_000);
    const file = path.join(dir, 'chain.onnx');
    writeReluChain(file, 1_000_000);
    const uri = vscode.Uri.file(file);
    const ql = await api();
    block();
    const t0 = Date.now();
    await vscode.commands.executeCommand('vscode.openWith', uri, 'quantlens.inspector');
    // Decoding 1M nodes takes its time (in the overview worker); the host must answer meanwhile.
    const report = await ql.waitForRender(uri, (r) => r.status !== 'loading', 180_000);
    console.log(
      `hazards: 1M nodes shown in ${Date.now() - t0} ms, event loop blocked ${block().toFixed(0)} ms at most`,
    );
    const t1 = Date.now();
    await vscode.commands.getCommands(true);
    worst = Math.max(worst, Date.now() - t1);
    console.log(`hazards: 1M nodes, host RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB after`);
    assert.equal(report.status, 'ready', JSON.stringify(report.fields).slice(0, 500));
    assert.equal(report.fields.nodeCount, '1,000,000');
    await closeAllEditors();
  });
});
