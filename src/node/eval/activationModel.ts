/**
 * The eval model (weights fed) rewritten for activations. Simulation: on every site tensor t,
 * `t = Where(flag, DequantizeLinear(QuantizeLinear(t_fp, scale, zp), scale, zp), t_fp)` per integer type the run
 * uses (nested), with scale, zero point and flag fed, so one session serves every activation configuration and
 * a false flag passes t_fp through exactly. Calibration and diagnostics: site tensors added as graph outputs.
 * Configurations without activations keep running in the unchanged eval model's session.
 */
import { onnx } from 'onnx-proto';
import {
  ACTIVATION_DTYPES,
  typeRange,
  type ActivationQuant,
  type ActivationType,
} from '../../core/quant/activationQuant';
import type { ActivationSite } from '../../core/quant/activationSites';
import { fedBiases, type FedBias } from './activationBias';

const FLOAT32 = 1;
const BOOL = 9;

/** Fed input names of one site's chain for one type. */
export interface ChainInputs {
  scale: string;
  zeroPoint: string;
  flag: string;
  /**
   * 16-bit types before opset 21 (no uint16/int16 QuantizeLinear): the same arithmetic in float ops,
   * Mul(Sub(Clip(Add(Round(Div(x, scale)), zp), qmin, qmax), zp), scale), zero point and bounds fed as float32.
   */
  emulated?: { qmin: string; qmax: string };
}

/** The simulation model and how to feed it. */
export interface QdqModel {
  bytes: Uint8Array;
  /** Per site tensor, per type: the inputs to feed. */
  chains: Map<string, Map<ActivationType, ChainInputs>>;
  /** The float (pre-quantization) name of each site tensor in the rewritten graph. */
  floatNames: Map<string, string>;
  /** The name of each site's chain output (its value as the quantized graph computes with it). */
  quantizedNames: Map<string, string>;
  /** Biases made graph inputs (withQdq's `biases` option): fed float, or as the export stores them (int32). */
  biases: FedBias[];
}

/** The ai.onnx opset a model imports. */
function opsetOf(model: onnx.IModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return Number(entry?.version ?? 0);
}

const scalar = (name: string, elemType: number): onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType, shape: { dim: [] } } },
});

/**
 * Adds QDQ chains (one per type in `types`) on every site; throws ModelError when the opset cannot. `biases`: the
 * float biases of Conv/Gemm nodes reading a site with a fed weight become graph inputs (see activationBias.ts).
 */
export function withQdq(
  evalBytes: Uint8Array,
  sites: readonly ActivationSite[],
  types: readonly ActivationType[],
  options: { biases?: boolean } = {},
): QdqModel {
  const model = onnx.ModelProto.decode(evalBytes);
  const opset = opsetOf(model);
  if (opset < 13) throw new Error(`Activation quantization needs opset 13 or newer; the model imports ${opset}.`);
  const graph = model.graph!;
  const biases = options.biases ? fedBiases(graph, sites) : [];
  const nodes = graph.node ?? [];
  const inputs = new Set((graph.input ?? []).map((v) => v.name ?? ''));
  // Each chain goes right after its tensor's producer (graph inputs: first), so the order stays topological.
  const after = new Map<number, onnx.INodeProto[]>();
  const chains: QdqModel['chains'] = new Map();
  const floatNames = new Map<string, string>();
  const quantizedNames = new Map<string, string>();
  sites.forEach((site, i) => {
    const t = site.tensor;
    let float = `${t}::ql_fp`;
    let out = t;
    let at = -1;
    if (inputs.has(t)) {
      // A graph input keeps its name; its readers read the chain's output instead.
      float = t;
      out = `${t}::ql_q`;
      for (const n of nodes) n.input = (n.input ?? []).map((x) => (x === t ? out : x));
    } else {
      at = nodes.findIndex((n) => (n.output ?? []).includes(t));
      if (at < 0) throw new Error(`Activation '${t}' has no producer in the main graph.`);
      const producer = nodes[at];
      producer.output = (producer.output ?? []).map((x) => (x === t ? float : x));
    }
    floatNames.set(t, float);
    quantizedNames.set(t, out);
    const { byType, nodes: chain, inputs: fed } = siteChain(i, float, out, types, opset < 21);
    graph.input = [...(graph.input ?? []), ...fed];
    after.set(at, [...(after.get(at) ?? []), ...chain]);
    chains.set(t, byType);
  });
  graph.node = [...(after.get(-1) ?? []), ...nodes.flatMap((n, i) => [n, ...(after.get(i) ?? [])])];
  return { bytes: onnx.ModelProto.encode(model).finish(), chains, floatNames, quantizedNames, biases };
}

/** The QDQ -> Where chain of site i, one link per type, from `float` to `out`, and its fed inputs. */
function siteChain(i: number, float: string, out: string, types: readonly ActivationType[], before21: boolean) {
  const byType = new Map<ActivationType, ChainInputs>();
  const nodes: onnx.INodeProto[] = [];
  const inputs: onnx.IValueInfoProto[] = [];
  let prev = float;
  types.forEach((type, k) => {
    const base = `ql_act${i}_${type}`;
    const names: ChainInputs = { scale: `${base}_scale`, zeroPoint: `${base}_zp`, flag: `${base}_on` };
    const emulate = before21 && type.endsWith('16');
    if (emulate) names.emulated = { qmin: `${base}_qmin`, qmax: `${base}_qmax` };
    byType.set(type, names);
    inputs.push(scalar(names.scale, FLOAT32), scalar(names.zeroPoint, emulate ? FLOAT32 : ACTIVATION_DTYPES[type]));
    inputs.push(scalar(names.flag, BOOL));
    if (names.emulated) inputs.push(scalar(names.emulated.qmin, FLOAT32), scalar(names.emulated.qmax, FLOAT32));
    const y = k === types.length - 1 ? out : `${base}_y`;
    nodes.push(...(names.emulated ? emulatedQdq(base, float, names) : qdqNodes(base, float, names)));
    nodes.push({ opType: 'Where', input: [names.flag, `${base}_dq`, prev], output: [y], name: `${base}_Where` });
    prev = y;
  });
  return { byType, nodes, inputs };
}

/** QuantizeLinear -> DequantizeLinear into `${base}_dq`. */
function qdqNodes(base: string, x: string, n: ChainInputs): onnx.INodeProto[] {
  const qdq = [n.scale, n.zeroPoint];
  return [
    { opType: 'QuantizeLinear', input: [x, ...qdq], output: [`${base}_q`], name: `${base}_Q` },
    { opType: 'DequantizeLinear', input: [`${base}_q`, ...qdq], output: [`${base}_dq`], name: `${base}_DQ` },
  ];
}

/** The same arithmetic in float ops (exact: integers below 2^24 are exact in float32) into `${base}_dq`. */
function emulatedQdq(base: string, x: string, n: ChainInputs): onnx.INodeProto[] {
  const op = (opType: string, input: string[], output: string): onnx.INodeProto => ({
    opType,
    input,
    output: [output],
    name: `${base}_${opType}`,
  });
  return [
    op('Div', [x, n.scale], `${base}_div`),
    op('Round', [`${base}_div`], `${base}_round`),
    op('Add', [`${base}_round`, n.zeroPoint], `${base}_add`),
    op('Clip', [`${base}_add`, n.emulated!.qmin, n.emulated!.qmax], `${base}_q`),
    op('Sub', [`${base}_q`, n.zeroPoint], `${base}_sub`),
    op('Mul', [`${base}_sub`, n.scale], `${base}_dq`),
  ];
}

/** The model with `tensors` added as float32 graph outputs (calibration and diagnostics runs). */
export function withOutputs(bytes: Uint8Array, tensors: readonly string[]): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const present = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const extra = tensors
    .filter((t) => !present.has(t))
    .map((t) => ({ name: t, type: { tensorType: { elemType: FLOAT32 } } }));
  graph.output = [...(graph.output ?? []), ...extra];
  return onnx.ModelProto.encode(model).finish();
}

/** The feeds of a configuration's activations: every chain off, but the sites quantized with their parameters. */
export function activationFeeds(
  q: QdqModel,
  activations: ReadonlyMap<string, ActivationQuant> | undefined,
): Record<string, { type: 'float32' | 'bool' | ActivationType; value: number | boolean }> {
  const feeds: Record<string, { type: 'float32' | 'bool' | ActivationType; value: number | boolean }> = {};
  for (const [tensor, byType] of q.chains) {
    const p = activations?.get(tensor);
    for (const [type, names] of byType) {
      const on = p !== undefined && p.type === type;
      feeds[names.scale] = { type: 'float32', value: on ? p.scale : 1 };
      feeds[names.zeroPoint] = { type: names.emulated ? 'float32' : type, value: on ? p.zeroPoint : 0 };
      feeds[names.flag] = { type: 'bool', value: on };
      if (names.emulated) {
        const { qmin, qmax } = typeRange(type);
        feeds[names.emulated.qmin] = { type: 'float32', value: qmin };
        feeds[names.emulated.qmax] = { type: 'float32', value: qmax };
      }
    }
  }
  return feeds;
}
