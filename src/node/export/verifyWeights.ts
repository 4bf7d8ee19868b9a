/**
 * Verification of an exported model's weights with onnxruntime as the oracle: each exported weight is
 * dequantized by onnxruntime's own kernels (a tiny graph holding the export's own nodes and initializers:
 * DequantizeLinear [+ Reshape], Cast, or MatMulNBits fed rows of the identity) and compared bit for bit with
 * QuantLens's simulation of the scheme (the evaluation's quantizeWeight).
 */
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { DType } from '../../core/onnx/dtypes';
import type { ExportCandidate } from '../../core/export/exportPlan';
import type { LoadedModelFile } from '../modelFile';
import { readRegularFile } from '../safeRead';
import { quantizeWeight } from '../eval/evalModel';
import * as path from 'node:path';

/** One weight's check. */
export interface WeightCheck {
  name: string;
  scheme: string;
  /** The op onnxruntime dequantized it with. */
  op: string;
  values: number;
  mismatches: number;
  /** The first mismatch: index, simulated and onnxruntime's value. */
  first?: { index: number; simulated: number; runtime: number };
}

const u32 = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Counts values whose float32 bits differ. */
function compare(sim: Float32Array, got: Float32Array, check: WeightCheck): WeightCheck {
  const a = u32(sim);
  const b = u32(got);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i] || (Number.isNaN(sim[i]) && Number.isNaN(got[i]))) continue;
    if (check.mismatches++ === 0) check.first = { index: i, simulated: sim[i], runtime: got[i] };
  }
  return check;
}

/** The initializers of the output model a node list reads, data inlined (external data read from its file). */
async function initializersFor(
  loaded: LoadedModelFile,
  output: string,
  names: Iterable<string>,
): Promise<onnx.ITensorProto[]> {
  const byName = new Map((loaded.model.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  const out: onnx.ITensorProto[] = [];
  for (const name of names) {
    const t = byName.get(name);
    if (!t) continue;
    if (t.dataLocation !== 1) {
      out.push(t);
      continue;
    }
    const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const file = path.join(path.dirname(output), entries.get('location') ?? '');
    const all = await readRegularFile(file, 2 ** 31 - 1);
    const offset = Number(entries.get('offset') ?? 0);
    const rawData = all.subarray(offset, offset + Number(entries.get('length') ?? all.length - offset));
    out.push({ name: t.name, dataType: t.dataType, dims: t.dims, rawData });
  }
  return out;
}

/** A one-output model around `nodes` with their initializers. */
function tinyModel(
  nodes: onnx.INodeProto[],
  inits: onnx.ITensorProto[],
  io: { input?: onnx.IValueInfoProto; output: onnx.IValueInfoProto },
  opset: number,
): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 10,
    opsetImport: [
      { domain: '', version: Math.max(opset, 13) },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: { name: 'verify', node: nodes, initializer: inits, input: io.input ? [io.input] : [], output: [io.output] },
  }).finish();
}

const tensorValue = (name: string, dims: number[]): onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType: DType.float32, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});

/** onnxruntime's kernels only: nothing folded or fused. */
const SESSION: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'disabled', logSeverityLevel: 4 };

/** The nodes producing `name` in the main graph, back to initializers (DequantizeLinear, Reshape, Cast). */
function producers(model: onnx.IModelProto, name: string): onnx.INodeProto[] {
  const nodes = model.graph?.node ?? [];
  const chain: onnx.INodeProto[] = [];
  let want = [name];
  for (let depth = 0; depth < 4 && want.length > 0; depth++) {
    const found = nodes.filter((n) => (n.output ?? []).some((o) => want.includes(o)));
    chain.unshift(...found);
    want = found.flatMap((n) => n.input ?? []).filter((i) => nodes.some((n) => (n.output ?? []).includes(i)));
  }
  return chain;
}

/** onnxruntime's dequantization of a weight exported as DequantizeLinear / Cast nodes. */
async function runtimeDequant(
  loaded: LoadedModelFile,
  output: string,
  w: ExportCandidate,
  opset: number,
): Promise<{ op: string; values: Float32Array }> {
  const nodes = producers(loaded.model, w.name);
  if (nodes.length === 0) throw new Error(`the export has no node producing ${w.name}`);
  const inits = await initializersFor(
    loaded,
    output,
    nodes.flatMap((n) => n.input ?? []),
  );
  const session = await ort.InferenceSession.create(
    tinyModel(nodes, inits, { output: tensorValue(w.name, w.dims) }, opset),
    SESSION,
  );
  try {
    const result = await session.run({});
    return { op: nodes.map((n) => n.opType).join(' + '), values: result[w.name].data as Float32Array };
  } finally {
    await session.release();
  }
}

/** onnxruntime's MatMulNBits on rows of the identity: row k of the product is row k of the weight [K, N]. */
async function runtimeNBits(
  loaded: LoadedModelFile,
  output: string,
  w: ExportCandidate,
  opset: number,
): Promise<{ op: string; values: Float32Array }> {
  const node = (loaded.model.graph?.node ?? []).find((n) => n.opType === 'MatMulNBits' && n.name === w.direct[0]?.node);
  if (!node) throw new Error(`the export has no MatMulNBits node for ${w.name}`);
  const [K, N] = w.dims;
  const attribute = (node.attribute ?? []).map((a) => (a.name === 'accuracy_level' ? { ...a, i: 0 } : a));
  const inits = await initializersFor(loaded, output, (node.input ?? []).slice(1));
  const rows = Math.max(1, Math.min(K, Math.floor(2 ** 24 / Math.max(K, N))));
  const verify = { ...node, input: ['A', ...(node.input ?? []).slice(1)], output: ['Y'], attribute };
  const input = {
    name: 'A',
    type: { tensorType: { elemType: DType.float32, shape: { dim: [{ dimParam: 'M' }, { dimValue: K }] } } },
  };
  const model = tinyModel(
    [verify],
    inits,
    { input, output: { name: 'Y', type: { tensorType: { elemType: DType.float32 } } } },
    opset,
  );
  const session = await ort.InferenceSession.create(model, SESSION);
  const values = new Float32Array(K * N);
  try {
    for (let k0 = 0; k0 < K; k0 += rows) {
      const m = Math.min(rows, K - k0);
      const a = new Float32Array(m * K);
      for (let i = 0; i < m; i++) a[i * K + k0 + i] = 1;
      const result = await session.run({ A: new ort.Tensor('float32', a, [m, K]) });
      values.set(result.Y.data as Float32Array, k0 * N);
    }
  } finally {
    await session.release();
  }
  return { op: 'MatMulNBits', values };
}

/** onnxruntime's GatherBlockQuantized on every row index: the whole dequantized table [V, D]. */
async function runtimeGather(
  loaded: LoadedModelFile,
  output: string,
  w: ExportCandidate,
  node: onnx.INodeProto,
  opset: number,
): Promise<{ op: string; values: Float32Array }> {
  const [V] = w.dims;
  const inputs = node.input ?? [];
  const inits = await initializersFor(loaded, output, [inputs[0], ...inputs.slice(2)]);
  const verify = { ...node, input: [inputs[0], 'I', ...inputs.slice(2)], output: ['Y'] };
  const input = { name: 'I', type: { tensorType: { elemType: DType.int64, shape: { dim: [{ dimValue: V }] } } } };
  const model = tinyModel(
    [verify],
    inits,
    { input, output: { name: 'Y', type: { tensorType: { elemType: DType.float32 } } } },
    opset,
  );
  const session = await ort.InferenceSession.create(model, SESSION);
  try {
    const indices = BigInt64Array.from({ length: V }, (_, i) => BigInt(i));
    const result = await session.run({ I: new ort.Tensor('int64', indices, [V]) });
    return { op: 'GatherBlockQuantized', values: result.Y.data as Float32Array };
  } finally {
    await session.release();
  }
}

/** Checks one exported weight: onnxruntime's dequantized values against the simulation of `scheme`. */
export async function checkWeight(
  loaded: LoadedModelFile,
  output: string,
  w: ExportCandidate,
  source: Float32Array,
  scheme: string,
  opset: number,
): Promise<WeightCheck> {
  const nodes = loaded.model.graph?.node ?? [];
  const nbits = nodes.some((n) => n.opType === 'MatMulNBits' && n.name === w.direct[0]?.node);
  const gather = nodes.find((n) => n.opType === 'GatherBlockQuantized' && n.name === w.direct[0]?.node);
  const runtime = nbits
    ? await runtimeNBits(loaded, output, w, opset)
    : gather
      ? await runtimeGather(loaded, output, w, gather, opset)
      : await runtimeDequant(loaded, output, w, opset);
  const sim = quantizeWeight(
    {
      name: w.name,
      layer: '',
      layers: [],
      op: '',
      dims: w.dims,
      values: source,
      layout: w.layout,
      transpose: w.transpose,
    },
    scheme,
    new Float32Array(source.length),
  );
  return compare(sim, runtime.values, { name: w.name, scheme, op: runtime.op, values: sim.length, mismatches: 0 });
}
