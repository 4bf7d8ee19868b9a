import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelOverview } from '../../src/core/onnx/overview';
import { boundOverview, DISPLAY_LIMITS, overviewPartPage, overviewPartText } from '../../src/core/view/overviewDisplay';

const base = (over: Partial<ModelOverview> = {}): ModelOverview => ({
  fileSize: 10,
  producerName: 'p',
  producerVersion: '1',
  domain: '',
  modelVersion: 1,
  docString: 'doc',
  irVersion: 8,
  opsets: [{ domain: '', version: 17 }],
  graphName: 'g',
  inputs: [{ name: 'x', dtype: 'float32', shape: [1, 'N'] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: null }],
  nodeCount: 1,
  subgraphCount: 0,
  opCounts: [{ opType: 'Relu', domain: '', count: 1 }],
  weightCount: 0,
  parameterCount: 0,
  weightBytes: 0,
  byDtype: [],
  metadata: [{ key: 'k', value: 'v' }],
  externalFiles: [],
  ...over,
});

describe('overview bounded for display', () => {
  it('leaves a small overview as it is, with no truncated field', () => {
    const o = base();
    const b = boundOverview(o);
    assert.deepEqual(b, o);
    assert.equal(b.truncated, undefined);
  });

  it('cuts a 10 MB doc string and long names, and records the full length', () => {
    const doc = 'd'.repeat(10_000_000);
    const b = boundOverview(base({ docString: doc, producerName: 'p'.repeat(1000), graphName: 'g'.repeat(1000) }));
    assert.equal(b.docString.length, DISPLAY_LIMITS.docChars + 1);
    assert.ok(b.docString.endsWith('…'));
    assert.equal(b.truncated?.docString, 10_000_000);
    assert.equal(b.truncated?.producer, 1000);
    assert.equal(b.graphName.length, DISPLAY_LIMITS.nameChars + 1);
    assert.ok(JSON.stringify(b).length < 20_000, 'the bounded overview is small');
  });

  it('keeps the first entries of 100k metadata properties (each cut), with the total count', () => {
    const metadata = Array.from({ length: 100_000 }, (_, i) => ({
      key: `key${i}`,
      value: 'v'.repeat(i === 0 ? 5000 : 3),
    }));
    const inputs = Array.from({ length: 1000 }, (_, i) => ({ name: `in${i}`, dtype: 'float32', shape: [1] }));
    const opCounts = Array.from({ length: 500 }, (_, i) => ({ opType: `Op${i}`, domain: '', count: 1 }));
    const b = boundOverview(base({ metadata, inputs, opCounts }));
    assert.equal(b.metadata.length, DISPLAY_LIMITS.listItems);
    assert.deepEqual(b.metadata[1], { key: 'key1', value: 'vvv' });
    assert.equal(b.metadata[0].value.length, DISPLAY_LIMITS.nameChars + 1);
    assert.deepEqual(b.truncated, { metadata: 100_000, inputs: 1000, opCounts: 500 });
    assert.equal(b.inputs.length, DISPLAY_LIMITS.listItems);
    assert.ok(JSON.stringify(b).length < 100_000);
  });

  it('"show all" gives the full text of a part, and pages it by lines', () => {
    const metadata = Array.from({ length: 1000 }, (_, i) => ({ key: `key${i}`, value: `value${i}` }));
    const o = base({ metadata, docString: 'a\nb\nc' });
    const text = overviewPartText(o, 'metadata');
    assert.equal(text.split('\n').length, 1000);
    assert.equal(text.split('\n')[999], 'key999\tvalue999');
    assert.equal(overviewPartText(o, 'docString'), 'a\nb\nc');
    assert.equal(overviewPartText(o, 'inputs'), 'x\tfloat32\t[1, N]');
    assert.equal(overviewPartText(o, 'outputs'), 'y\tfloat32\tunknown');
    assert.equal(overviewPartText(o, 'opsets'), 'ai.onnx\t17');
    assert.equal(overviewPartText(o, 'producer'), 'p 1');
    const pages: string[] = [];
    for (let offset = 0; ; offset += 300) {
      const page = overviewPartPage(o, 'metadata', offset, 300);
      assert.equal(page.total, 1000);
      if (page.lines.length === 0) break;
      pages.push(...page.lines);
    }
    assert.equal(pages.join('\n'), text);
    assert.deepEqual(overviewPartPage(o, 'docString', 1, 1), { lines: ['b'], total: 3 });
  });
});
