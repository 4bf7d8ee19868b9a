import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tableCsv, tableJson } from '../../src/core/view/layerTableExport';
import {
  consumerOps,
  layerRow,
  queryRows,
  tablePage,
  withSqnrRanks,
  type LayerRow,
  type TableQuery,
} from '../../src/core/view/layerTableView';
import type { TensorAnalysis } from '../../src/core/stats/analyze';
import { LayerTable } from '../../src/core/view/layerTable';
import { modelSizes } from '../../src/core/view/schemeSizes';
import type { WeightInfo } from '../../src/core/view/weightInfo';
import { decodeNumbers, encodeNumbers } from '../../src/wire';

const weight = (name: string, op: string, shape: number[], quantizable: boolean, dtype = 'float32'): WeightInfo =>
  ({
    name,
    layers: [{ node: `/${name}/${op}`, op, input: 1 }],
    dtype,
    shape,
    role: quantizable ? 'weight' : 'bias',
    quantizable,
    ...(quantizable ? { layout: { rows: shape[0], cols: shape[1], channelAxis: 1 as const } } : {}),
  }) as WeightInfo;

const rows: LayerRow[] = [
  {
    ...layerRow(0, weight('a', 'MatMul', [4, 8], true), undefined, ['int8-channel']),
    sqnr: [40],
    stats: { absmax: 1, std: 0.5, kurtosis: 0, outlierRatio: 2 },
  },
  { ...layerRow(1, weight('b', 'Add', [8], false), undefined, ['int8-channel']) },
  {
    ...layerRow(2, weight('c, "q"', 'Conv', [2, 2], true), undefined, ['int8-channel']),
    sqnr: [Infinity],
    stats: { absmax: 3, std: 1, kurtosis: 5, outlierRatio: 3 },
  },
  {
    ...layerRow(3, weight('d', 'MatMul', [2, 2], true), undefined, ['int8-channel']),
    sqnr: [12.5],
    stats: { absmax: 2, std: 1, kurtosis: 1, outlierRatio: 2 },
  },
];
const q = (change: Partial<TableQuery>): TableQuery => ({
  sort: 'index',
  descending: false,
  text: '',
  op: '',
  quantizableOnly: false,
  ...change,
});
const names = (r: LayerRow[]): string[] => r.map((x) => x.name);

describe('layer table', () => {
  it('sorts by SQNR both ways, rows without a value last, ties in graph order', () => {
    assert.deepEqual(names(queryRows(rows, q({ sort: 'sqnr:int8-channel' }), ['int8-channel'])), [
      'd',
      'a',
      'c, "q"',
      'b',
    ]);
    assert.deepEqual(names(queryRows(rows, q({ sort: 'sqnr:int8-channel', descending: true }), ['int8-channel'])), [
      'c, "q"',
      'a',
      'd',
      'b',
    ]);
    assert.deepEqual(names(queryRows(rows, q({ sort: 'std' }), ['int8-channel'])), ['a', 'c, "q"', 'd', 'b']);
    assert.deepEqual(names(queryRows(rows, q({ sort: 'params', descending: true }), [])), ['a', 'b', 'c, "q"', 'd']);
  });

  it('filters by text, op type and quantizable', () => {
    assert.deepEqual(names(queryRows(rows, q({ op: 'MatMul' }), [])), ['a', 'd']);
    assert.deepEqual(names(queryRows(rows, q({ quantizableOnly: true }), [])), ['a', 'c, "q"', 'd']);
    assert.deepEqual(names(queryRows(rows, q({ text: 'CONV' }), [])), ['c, "q"']);
  });

  it('exports CSV (quoted per RFC 4180) and JSON with Infinity spelled out', () => {
    const csv = tableCsv(rows, ['int8-channel']).split('\r\n');
    assert.equal(
      csv[0],
      'index,layer,op,tensor,shape,parameters,dtype,quantizable,absmax,std,kurtosis,outlier_ratio,sqnr_db_int8-channel',
    );
    assert.equal(csv[1], '0,/a/MatMul,MatMul,a,4x8,32,float32,yes,1,0.5,0,2,40');
    assert.equal(csv[2], '1,/b/Add,Add,b,8,8,float32,no,,,,,');
    assert.equal(csv[3], '2,"/c, ""q""/Conv",Conv,"c, ""q""",2x2,4,float32,yes,3,1,5,3,Infinity');
    const json = JSON.parse(tableJson(rows, ['int8-channel'])) as { sqnrDb: Record<string, unknown> }[];
    assert.equal(json[2].sqnrDb['int8-channel'], 'Infinity');
    assert.equal(json[1].sqnrDb['int8-channel'], null);
  });

  it('model size per scheme: quantizable weights at the scheme, the rest as stored', () => {
    const plan = [
      weight('w', 'MatMul', [64, 128], true),
      weight('b', 'Add', [128], false),
      weight('h', 'MatMul', [16, 16], true, 'float16'),
    ];
    const { weightBytes, sizes } = modelSizes(plan, ['int4-block32', 'fp16']);
    assert.equal(weightBytes, 64 * 128 * 4 + 128 * 4 + 256 * 2);
    // int4-block32, blocks along K = 64 rows: 128 channels x 2 blocks; 16x16: 16 channels x 1 block.
    assert.deepEqual(sizes, [
      { scheme: 'int4-block32', bytes: (64 * 128) / 2 + 4 * 256 + 512 + (128 + 4 * 16) },
      { scheme: 'fp16', bytes: 64 * 128 * 2 + 512 + 512 },
    ]);
  });

  it('non-finite numbers survive the JSON of webview messages; typed arrays pass through', () => {
    const typed = Float64Array.of(Infinity, NaN);
    const value = { a: [Infinity, -Infinity, NaN, 1], b: { c: typed }, d: null };
    const wire = JSON.parse(JSON.stringify(encodeNumbers({ ...value, b: {} }))) as object;
    assert.deepEqual(decodeNumbers(wire), { a: [Infinity, -Infinity, NaN, 1], b: {}, d: null });
    assert.equal((encodeNumbers(value) as { b: { c: Float64Array } }).b.c, typed);
  });

  it('pages clamp to the rows (at most 1000 a page) and find a weight among the matching rows', () => {
    const p = tablePage(rows, ['int8-channel'], 3, 10, 'b');
    assert.deepEqual([p.total, p.offset, names(p.rows), p.found], [4, 3, ['d'], 1]);
    assert.equal(tablePage(rows, [], 99, 10).offset, 4);
    assert.equal(tablePage(rows, [], 0, 10, 'zz').found, -1);
    assert.equal(tablePage(rows, [], 0, 10).found, undefined);
    const many = Array.from({ length: 1500 }, (_, i) => ({ ...rows[1], index: i }));
    assert.equal(tablePage(many, [], 0, 5000).rows.length, 1000);
  });

  it('the table of a model: rows as analysed, sensitivity by weight name, the order refreshed when a row changes', () => {
    const plan = [
      weight('a', 'MatMul', [4, 8], true),
      weight('b', 'Add', [8], false),
      weight('c', 'Conv', [2, 2], true),
    ];
    assert.deepEqual(consumerOps(plan), ['Add', 'Conv', 'MatMul']);
    const table = new LayerTable();
    table.reset(plan, ['int8-channel']);
    const bySqnr = q({ sort: 'sqnr:int8-channel' });
    assert.deepEqual(names(table.query(bySqnr)), ['a', 'b', 'c']);
    const analysed = (sqnrDb: number): TensorAnalysis =>
      ({
        stats: { absmax: 1, std: 1, kurtosis: 0, outlierRatio: 1 },
        schemes: { 'int8-channel': { sqnrDb } },
      }) as unknown as TensorAnalysis;
    table.update(2, analysed(30));
    table.update(0, analysed(45));
    assert.deepEqual(names(table.query(bySqnr)), ['c', 'a', 'b']);
    assert.deepEqual(table.row(2).sqnr, [30]);
    table.setSensitivity(new Map([['a', { rank: 1, effect: 2.5, text: '-2.5 pp' }]]));
    assert.equal(table.row(0).sensitivity?.effect, 2.5);
    assert.deepEqual(names(table.query(q({ sort: 'sensitivity', descending: true }))), ['a', 'b', 'c']);
    // A new read keeps the sensitivity; new sensitivity without the weight drops it from its row.
    table.reset(plan, ['int8-channel', 'int4-block32']);
    assert.equal(table.row(0).sensitivity?.rank, 1);
    assert.deepEqual(table.row(0).sqnr, [null, null]);
    table.setSensitivity(new Map());
    assert.equal('sensitivity' in table.row(0), false);
    const page = table.page(q({}), 0, 2);
    assert.deepEqual([page.total, names(page.rows), page.schemes], [3, ['a', 'b'], ['int8-channel', 'int4-block32']]);
  });

  it('the table orders weight indices as queryRows orders the built rows, for every key and filter', () => {
    const schemes = ['int8-channel', 'int4-block32'];
    const ops = ['MatMul', 'Conv', 'Add', 'Gather'];
    let seed = 18;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const plan = Array.from({ length: 300 }, (_, i) =>
      weight(
        `w${Math.floor(next() * 50)}_${i % 7}`,
        ops[i % 4],
        [1 + (i % 5), 2],
        i % 3 !== 0,
        i % 2 ? 'float32' : 'float16',
      ),
    );
    const table = new LayerTable();
    table.reset(plan, schemes);
    const analyses: (TensorAnalysis | undefined)[] = plan.map((_, i) =>
      i % 4 === 1
        ? undefined
        : ({
            stats: { absmax: Math.floor(next() * 5), std: next() < 0.1 ? NaN : next(), kurtosis: 0, outlierRatio: 1 },
            schemes: {
              'int8-channel': { sqnrDb: next() < 0.1 ? NaN : Math.floor(next() * 8) },
              'int4-block32': { sqnrDb: Infinity },
            },
          } as unknown as TensorAnalysis),
    );
    analyses.forEach((a, i) => a && table.update(i, a));
    const sensitivity = new Map(
      plan
        .filter((_, i) => i % 9 === 0)
        .map((w, k) => [w.name, { rank: k + 1, effect: k % 4, text: '', scheme: 'int8-channel' }]),
    );
    table.setSensitivity(sensitivity);
    const built = withSqnrRanks(
      plan.map((w, i) => {
        const row = layerRow(i, w, analyses[i], schemes);
        const s = sensitivity.get(w.name);
        return s ? { ...row, sensitivity: s } : row;
      }),
      schemes,
    );
    const sorts = [
      'index',
      'layer',
      'name',
      'params',
      'dtype',
      'absmax',
      'std',
      'sensitivity',
      'sqnr:int8-channel',
      'sqnr:int4-block32',
      'sqnr:fp16',
    ] as const;
    for (const sort of sorts) {
      for (const change of [
        {},
        { descending: true },
        { text: 'W1' },
        { op: 'Conv' },
        { quantizableOnly: true, text: 'matmul' },
      ]) {
        const query = q({ sort, ...change });
        assert.deepEqual(table.query(query), queryRows(built, query, schemes), JSON.stringify(query));
      }
    }
    const page = table.page(q({ sort: 'name' }), 10, 5, plan[42].name);
    assert.deepEqual(page.rows, queryRows(built, q({ sort: 'name' }), schemes).slice(10, 15));
    assert.equal(
      page.found,
      queryRows(built, q({ sort: 'name' }), schemes).findIndex((r) => r.name === plan[42].name),
    );
  });
});
