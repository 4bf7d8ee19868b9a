/**
 * A stopped plan search in the inference child answers with the front found so far (issue 21: "a cancelled search
 * keeps the front found so far"): findPlanInChild's `stop` sends STOP_SEARCH, the child's search ends at its next
 * measurement and replies with a report marked cancelled; the plans it lists are the ones measured before the stop.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { findPlanInChild } from '../../src/node/eval/evalClient';

const ROOT = path.join(__dirname, '..', '..');
const ENTRY = path.join(ROOT, 'src', 'node', 'eval', 'evalProcess.ts');

describe('plan search in the child, stopped', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-stop-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('answers a stop with the front found so far, marked cancelled', { timeout: 240_000 }, async () => {
    for (const f of ['char_gpt.onnx', 'heldout.jsonl', 'char_gpt.quantlens.json'])
      copyFileSync(path.join(ROOT, 'demo', 'lm', f), path.join(dir, f));
    const stop = new AbortController();
    let measuredAtStop = 0;
    const report = await findPlanInChild(ENTRY, path.join(dir, 'char_gpt.quantlens.json'), {
      execArgv: ['--import', 'tsx'],
      stop: stop.signal,
      onProgress: (p) => {
        const m = /^(\d+) plans measured/.exec(p.message);
        if (m && Number(m[1]) >= 3 && !stop.signal.aborted) {
          measuredAtStop = Number(m[1]);
          stop.abort();
        }
      },
    });
    // Marked cancelled only when the stop came while the search ran (the report says whether its signal was aborted).
    assert.equal(report.cancelled, true);
    assert.ok(measuredAtStop >= 3, 'the search was stopped mid-way');
    // What was measured before the stop, and at most the measurement under way when it came.
    assert.ok(report.plans.length >= measuredAtStop, `${report.plans.length} plans kept of ${measuredAtStop}`);
    assert.ok(report.front.length >= 1 && report.front.every((f) => report.plans.some((p) => p.cost === f.cost)));
    assert.equal(report.routing, undefined, 'a stopped search does not go on to measure routing');
  });
});
