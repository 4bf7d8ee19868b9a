import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { layerRow, ranksDisagree, withSqnrRanks, type LayerRow } from '../../src/core/view/layerTableView';
import {
  columnGeometry,
  layerColumns,
  offscreenColumns,
  splitMiddle,
  sqnrColumnWidth,
} from '../../src/core/view/tableColumns';
import type { WeightInfo } from '../../src/core/view/weightInfo';
import { countLabel, formatSqnr, pluralLabel } from '../../webview/format';

const SCHEMES = ['fp16', 'fp8-e4m3', 'int8-channel', 'int8-tensor', 'int4-block32', 'int4-block128'];

describe('layer table columns (issue 17)', () => {
  it('one pixel geometry: every track in px, the row width their sum, nothing sized by content', () => {
    const cols = layerColumns(SCHEMES);
    for (const width of [500, 1210, 3000]) {
      const g = columnGeometry(cols, width);
      assert.equal(g.widths.length, cols.length);
      assert.match(g.template, /^(\d+px ?)+$/);
      assert.equal(
        g.total,
        g.widths.reduce((a, b) => a + b, 0),
      );
      g.lefts.forEach((left, i) => assert.equal(left, i === 0 ? 0 : g.lefts[i - 1] + g.widths[i - 1]));
    }
  });

  it('# and layer are pinned and first, the SQNR columns follow them and fit at 1600 px with the explorer open', () => {
    const cols = layerColumns(SCHEMES);
    assert.deepEqual(
      cols.slice(0, 2).map((c) => [c.key, c.pinned]),
      [
        ['index', true],
        ['layer', true],
      ],
    );
    assert.deepEqual(
      cols.slice(2, 2 + SCHEMES.length).map((c) => c.key),
      SCHEMES.map((s) => `sqnr:${s}`),
    );
    // A 1600 px window, the activity bar and explorer (~350 px), the editor padding: about 1210 px for the table.
    const g = columnGeometry(cols, 1210);
    const lastSqnr = 1 + SCHEMES.length;
    assert.ok(
      g.lefts[lastSqnr] + g.widths[lastSqnr] <= 1210,
      `SQNR columns end at ${g.lefts[lastSqnr] + g.widths[lastSqnr]}`,
    );
    assert.ok(g.widths[1] >= 220, 'the layer column keeps room for names');
    assert.equal(g.pinnedWidth, g.widths[0] + g.widths[1]);
    assert.deepEqual(offscreenColumns(cols, g, 0, 1210).left, []);
    const right = offscreenColumns(cols, g, 0, 1210).right;
    assert.ok(!right.some((t) => SCHEMES.includes(t)), `SQNR columns reported off-screen: ${right.join(', ')}`);
  });

  it('the measured-effect column only after an evaluation, saying which scheme it ranks; SQNR tips explain the number', () => {
    assert.ok(!layerColumns(SCHEMES).some((c) => c.key === 'sensitivity'), 'no empty Sensitivity column');
    const cols = layerColumns(SCHEMES, 'int4-block32');
    const measured = cols.find((c) => c.key === 'sensitivity')!;
    assert.equal(measured.title, 'Measured · int4-block32');
    assert.equal(cols.indexOf(measured), 2, 'next to the SQNR columns');
    const sqnr = cols.find((c) => c.key === 'sqnr:int8-channel')!;
    assert.match(sqnr.tip, /6 dB per bit/);
    assert.match(sqnr.tip, /model-specific/);
    assert.match(sqnr.tip, /measure/);
  });

  it('scheme columns are compact, wider for longer ids', () => {
    assert.ok(sqnrColumnWidth('fp16') < sqnrColumnWidth('int4-block128'));
    assert.ok(sqnrColumnWidth('int4-block128-asym') <= 118);
  });

  it('columns scrolled out of view are reported on their side (pinned ones never)', () => {
    const cols = layerColumns(SCHEMES);
    const g = columnGeometry(cols, 600);
    const { left, right } = offscreenColumns(cols, g, 0, 600);
    assert.deepEqual(left, []);
    assert.ok(right.includes('Tensor') && right.includes('absmax/std'));
    const scrolled = offscreenColumns(cols, g, g.total - 600, 600);
    assert.ok(scrolled.left.includes('fp16'));
    assert.ok(!scrolled.left.includes('#') && !scrolled.left.includes('Layer'));
    assert.deepEqual(scrolled.right, []);
  });

  it('names split for truncation in the middle keep their end, from a separator', () => {
    assert.deepEqual(splitMiddle('/blocks/blocks.0/attn/qkv/MatMul'), ['/blocks/blocks.0', '/attn/qkv/MatMul']);
    assert.deepEqual(splitMiddle('fp16'), ['fp16', '']);
    // Rows that differ only before the op's name keep that part (norm1 and norm2 read the same otherwise).
    assert.deepEqual(splitMiddle('/blocks/blocks.0/norm1/LayerNormalization'), [
      '/blocks/blocks.0',
      '/norm1/LayerNormalization',
    ]);
    for (const name of ['onnx::MatMul_257', 'else / If_0_else_branch__Inline_0__/fc/MatMul', 'int4-block128-asym']) {
      const [head, tail] = splitMiddle(name);
      assert.equal(head + tail, name);
      assert.ok(tail.length >= 3 && tail.length <= 18, `${name}: tail ${tail}`);
    }
    // Two names differing only at the end keep different tails.
    assert.notEqual(splitMiddle('then / p2o.MatMul.1')[1], splitMiddle('then / p2o.MatMul.2')[1]);
  });
});

describe('static SQNR against the measured effect', () => {
  const w = (name: string): WeightInfo =>
    ({
      name,
      layers: [{ node: `/${name}/MatMul`, op: 'MatMul', input: 1 }],
      dtype: 'float32',
      shape: [4, 4],
      role: 'weight',
      quantizable: true,
    }) as WeightInfo;
  const row = (i: number, sqnr: number, rank: number): LayerRow => ({
    ...layerRow(i, w(`w${i}`), undefined, ['int8-channel', 'int4-block32']),
    sqnr: [40, sqnr],
    sensitivity: { rank, effect: 10 - rank, text: `-${10 - rank} pp`, scheme: 'int4-block32' },
  });

  it('ranks the measured layers by SQNR under the ranking scheme (1 = lowest) and flags large disagreements', () => {
    // The embedding (w0) measured most sensitive but with the best SQNR: the language-model case.
    const rows = withSqnrRanks(
      [row(0, 30, 1), row(1, 20, 2), row(2, 18, 3), row(3, 16, 4), row(4, 14, 5), row(5, 12, 6)],
      ['int8-channel', 'int4-block32'],
    );
    assert.deepEqual(
      rows.map((r) => r.sensitivity!.sqnrRank),
      [6, 5, 4, 3, 2, 1],
    );
    assert.ok(rows.every((r) => r.sensitivity!.ranked === 6));
    assert.equal(ranksDisagree(rows[0].sensitivity!), true);
    assert.equal(ranksDisagree(rows[2].sensitivity!), false);
    // Agreement: measured order = SQNR order.
    const agree = withSqnrRanks([row(0, 10, 1), row(1, 20, 2), row(2, 30, 3)], ['int8-channel', 'int4-block32']);
    assert.ok(agree.every((r) => !ranksDisagree(r.sensitivity!)));
  });

  it('rows without a measurement or an SQNR get no rank; ranking again replaces old ranks', () => {
    const unmeasured = layerRow(9, w('w9'), undefined, ['int8-channel', 'int4-block32']);
    const pending = { ...row(1, 0, 2), sqnr: [null, null] };
    const rows = withSqnrRanks([row(0, 10, 1), pending, unmeasured], ['int8-channel', 'int4-block32']);
    assert.equal(rows[0].sensitivity!.sqnrRank, 1);
    assert.equal(rows[0].sensitivity!.ranked, 1);
    assert.equal(rows[1].sensitivity!.sqnrRank, undefined);
    assert.equal(rows[2].sensitivity, undefined);
    const again = withSqnrRanks([{ ...rows[0], sqnr: [null, null] }], ['int8-channel', 'int4-block32']);
    assert.equal(again[0].sensitivity!.sqnrRank, undefined);
  });
});

describe('words and units in the inspector (finding 8)', () => {
  it('an exact SQNR reads "∞ (exact)", never "Infinity dB"; labels are pluralized before their parenthesis', () => {
    assert.equal(formatSqnr(Infinity), '∞ (exact)');
    assert.equal(formatSqnr(12.34), '12.3 dB');
    assert.equal(formatSqnr(null), '—');
    assert.equal(pluralLabel('row (embedding)'), 'rows (embedding)');
    assert.equal(countLabel(86, 'row (embedding)'), '86 rows (embedding)');
    assert.equal(countLabel(1, 'output column'), '1 output column');
    assert.equal(countLabel(4633, 'value'), '4,633 values');
  });
});
