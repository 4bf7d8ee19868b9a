/**
 * `npm run bench` (last part) / `npm run bench:latency`: latency of an LLM-shaped stack (LAYERS chained MatMuls
 * of DIM x DIM, batch 1) as fp32, int8 (DequantizeLinear per channel: onnxruntime's defaults, and with
 * `session.qdq_matmulnbits_accuracy_level` 0) and int4 `MatMulNBits` (block 32) at accuracy levels 0 and 4,
 * each model in a fresh process, A B A B (the cost measurement of `quantlens bench` and `eval`).
 * Options: --layers N (default 8), --dim N (default 4096), --runs N (30), --seconds T (2), --rounds N (2).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { costTable } from '../src/core/cost/costFormat';
import { measureCosts } from '../src/node/cost/costRun';
import { fileSessionOptions } from '../src/node/eval/fileVariant';
import { DT, floatTensor, gaussian, model, node, rawTensor, rng, value } from '../test/fixtures/onnxBuilder';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const LAYERS = opt('--layers', 8);
const DIM = opt('--dim', 4096);
const BLOCK = 32;
const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-latency-'));

/** One weight, shared by every layer's initializer (values matter little for speed). */
const w = gaussian(rng(3), DIM * DIM, 0.02);

/** Symmetric per-column int8 of w [K, N]: values and one scale per output column. */
function int8Weights(): { q: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(DIM);
  for (let i = 0; i < w.length; i++) scales[i % DIM] = Math.max(scales[i % DIM], Math.abs(w[i]) / 127);
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.round(w[i] / scales[i % DIM]);
  return { q, scales };
}

/** MatMulNBits' B [N, K/32, 16] (uint4 q + 8, low nibble first) and scales [N * K/32] of w [K, N]. */
function int4Weights(): { b: Uint8Array; scales: Float32Array } {
  const blocks = DIM / BLOCK;
  const scales = new Float32Array(DIM * blocks);
  const b = new Uint8Array((DIM * DIM) / 2);
  for (let n = 0; n < DIM; n++) {
    for (let k0 = 0; k0 < blocks; k0++) {
      let absmax = 0;
      for (let k = 0; k < BLOCK; k++) absmax = Math.max(absmax, Math.abs(w[(k0 * BLOCK + k) * DIM + n]));
      const s = absmax / 7 || 1;
      scales[n * blocks + k0] = s;
      for (let k = 0; k < BLOCK; k += 2) {
        const q = (kk: number): number => Math.max(-7, Math.min(7, Math.round(w[(k0 * BLOCK + kk) * DIM + n] / s))) + 8;
        b[(n * blocks + k0) * (BLOCK / 2) + k / 2] = q(k) | (q(k + 1) << 4);
      }
    }
  }
  return { b, scales };
}

type Layer = (
  i: number,
  x: string,
  y: string,
) => { nodes: ReturnType<typeof node>[]; inits: ReturnType<typeof rawTensor>[] };

function stack(name: string, layer: Layer, opsets: [string, number][]): string {
  const nodes = [];
  const inits = [];
  for (let i = 0; i < LAYERS; i++) {
    const l = layer(i, i === 0 ? 'x' : `h${i}`, i === LAYERS - 1 ? 'y' : `h${i + 1}`);
    nodes.push(...l.nodes);
    inits.push(...l.inits);
  }
  const file = path.join(dir, `${name}.onnx`);
  const graph = {
    name,
    node: nodes,
    initializer: inits,
    input: [value('x', DT.float32, [1, DIM])],
    output: [value('y', DT.float32, [1, DIM])],
  };
  writeFileSync(file, model(graph, { opsets }));
  return file;
}

function build(): Record<string, string> {
  const fp32 = stack(
    'fp32',
    (i, x, y) => ({
      nodes: [node('MatMul', [x, `w${i}`], [y], `mm${i}`)],
      inits: [floatTensor(`w${i}`, [DIM, DIM], w)],
    }),
    [['', 17]],
  );
  const { q, scales } = int8Weights();
  const int8 = stack(
    'int8',
    (i, x, y) => ({
      nodes: [
        node('DequantizeLinear', [`q${i}`, `s${i}`], [`w${i}`], `dq${i}`, { axis: 1 }),
        node('MatMul', [x, `w${i}`], [y], `mm${i}`),
      ],
      inits: [rawTensor(`q${i}`, DT.int8, [DIM, DIM], q), floatTensor(`s${i}`, [DIM], scales)],
    }),
    [['', 17]],
  );
  const four = int4Weights();
  const nbits = (level: number) => (i: number, x: string, y: string) => ({
    nodes: [
      node(
        'MatMulNBits',
        [x, `b${i}`, `s${i}`],
        [y],
        `mm${i}`,
        { K: DIM, N: DIM, bits: 4, block_size: BLOCK, accuracy_level: level },
        'com.microsoft',
      ),
    ],
    inits: [
      rawTensor(`b${i}`, DT.uint8, [DIM, DIM / BLOCK, BLOCK / 2], four.b),
      floatTensor(`s${i}`, [DIM * (DIM / BLOCK)], four.scales),
    ],
  });
  const opsets: [string, number][] = [
    ['', 21],
    ['com.microsoft', 1],
  ];
  return { fp32, int8, int4a0: stack('int4-level0', nbits(0), opsets), int4a4: stack('int4-level4', nbits(4), opsets) };
}

async function main(): Promise<void> {
  console.log(`Latency of ${LAYERS} chained ${DIM} x ${DIM} MatMuls, batch 1 (each model in a fresh process, A B A B)`);
  const files = build();
  const exact = { config: { 'session.qdq_matmulnbits_accuracy_level': '0' } };
  const targets = [
    { id: 'fp32 MatMul', model: files.fp32, sessionOptions: fileSessionOptions(undefined) },
    {
      id: 'int8 DequantizeLinear per channel (onnxruntime defaults)',
      model: files.int8,
      sessionOptions: fileSessionOptions(undefined),
    },
    {
      id: 'int8 DequantizeLinear per channel, qdq accuracy level 0',
      model: files.int8,
      sessionOptions: fileSessionOptions(exact),
    },
    {
      id: 'int4 MatMulNBits block 32, accuracy_level 0',
      model: files.int4a0,
      sessionOptions: fileSessionOptions(undefined),
    },
    {
      id: 'int4 MatMulNBits block 32, accuracy_level 4',
      model: files.int4a4,
      sessionOptions: fileSessionOptions(undefined),
    },
  ];
  const settings = {
    batchSizes: [1],
    runs: opt('--runs', 30),
    seconds: opt('--seconds', 2),
    rounds: opt('--rounds', 2),
    warmup: 5,
  };
  const costs = await measureCosts(targets, settings, { onProgress: (_d, _t, m) => process.stderr.write(`  ${m}\n`) });
  console.log(costTable(targets.map((t) => ({ name: t.id, cost: costs.get(t.id)! }))));
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
