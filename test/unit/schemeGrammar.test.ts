/** One scheme grammar: parseScheme, the JSON schemas and the setting pattern accept the same ids. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GRANULARITY_PATTERN, schemePattern } from '../../src/core/quant/schemeGrammar';
import { parseScheme } from '../../src/core/quant/schemes';
import { outOfDate } from '../../scripts/generateSchemas';

const accepts = (id: string): boolean => {
  try {
    parseScheme(id);
    return true;
  } catch {
    return false;
  }
};

/** Candidate ids around the grammar's edges: widths 0..10, block sizes that are and are not allowed, junk. */
function candidates(): string[] {
  const ids = ['fp16', 'bf16', 'fp8-e4m3', 'fp8-e5m2', 'fp32', 'fp8', 'fp8-e4m3fn', 'int8', 'INT8-channel', 'int8-'];
  for (let bits = 0; bits <= 10; bits++) {
    for (const g of ['tensor', 'channel', 'block', 'block8', 'block16', 'block32', 'block64', 'block128', 'block256']) {
      for (const suffix of ['', '-asym', '-sym']) ids.push(`int${bits}-${g}${suffix}`);
    }
  }
  return ids;
}

describe('scheme grammar', () => {
  it('the schemas and package.json hold the grammar’s patterns (npm run schemas writes them)', () => {
    assert.deepEqual(
      outOfDate().map((t) => `${t.file}: ${t.keys.join('.')}`),
      [],
    );
  });

  it('parseScheme accepts exactly the ids the schema pattern matches', () => {
    const pattern = new RegExp(schemePattern());
    const differ = candidates().filter((id) => accepts(id) !== pattern.test(id));
    assert.deepEqual(differ, []);
    assert.equal(candidates().filter(accepts).length, 4 + 7 * 6 * 2);
  });

  it('plans add fp32; the sweep granularity is the same grammar without bits', () => {
    assert.ok(new RegExp(schemePattern(['fp32'])).test('fp32'));
    assert.ok(!new RegExp(schemePattern()).test('fp32'));
    const granularity = new RegExp(GRANULARITY_PATTERN);
    for (const g of ['tensor', 'channel', 'block16', 'block32', 'block64', 'block128']) {
      assert.ok(granularity.test(g) && accepts(`int4-${g}`), g);
    }
    assert.ok(!granularity.test('block8') && !accepts('int4-block8'));
  });
});
