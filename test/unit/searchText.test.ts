/** The plan search view's texts for a search that did not finish: the export button and the empty per-slice table. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FindPlanReport, ReportedPlan } from '../../src/core/search/planReport';
import { exportChosenLabel, noSlicesText } from '../../webview/search/searchText';

const plan = (over: Partial<ReportedPlan> = {}): ReportedPlan => ({
  layers: { '/fc1/MatMul': 'int4-block32' },
  cost: 1000,
  worst: 0.5,
  worstSlice: 'digit=2',
  passes: true,
  withinNoise: false,
  decision: 'inside',
  samples: 128,
  ...over,
});
const report = (over: Partial<FindPlanReport>): FindPlanReport =>
  ({ cancelled: false, runs: { samples: 400 }, ...over }) as unknown as FindPlanReport;
const slices = [{ name: 'digit=2', n: 40, verdict: 'pass', metrics: { n: 40 } }] as ReportedPlan['slices'];

describe('plan search view texts', () => {
  it('a finished search exports and verifies the chosen plan', () => {
    const r = report({ chosen: plan({ decision: 'full', samples: 400, slices }) });
    assert.equal(exportChosenLabel(r), 'Export and verify the chosen plan');
    assert.equal(noSlicesText(r), undefined, 'its table has rows: no note');
  });

  it('a cancelled search offers the best plan so far with the samples it was measured on', () => {
    const r = report({ cancelled: true, chosen: plan({ samples: 128 }) });
    assert.equal(exportChosenLabel(r), 'Export the best plan so far (measured on 128 of 400 samples)');
    assert.equal(
      noSlicesText(r),
      'Measured on 128 samples only: the search was cancelled before it was read on all of them.',
    );
  });

  it('a cancelled search whose best plan was read on every sample shows its table, no note', () => {
    const r = report({ cancelled: true, chosen: plan({ decision: 'full', samples: 400, slices }) });
    assert.equal(exportChosenLabel(r), 'Export and verify the best plan so far');
    assert.equal(noSlicesText(r), undefined);
  });

  it('no plan: no note (the view says "No plan chosen.")', () => {
    assert.equal(noSlicesText(report({ cancelled: true })), undefined);
    assert.equal(exportChosenLabel(report({ cancelled: true })), 'Export and verify the best plan so far');
  });
});
