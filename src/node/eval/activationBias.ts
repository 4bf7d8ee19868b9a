/**
 * Biases in the activation simulation as the static QDQ export stores them. onnxruntime's quantizer (and the
 * export, src/core/export/activationQdq.ts) stores the float bias of a Conv / ConvTranspose / Gemm whose input
 * activation and weight are quantized as int32 with scale float32(s_x * s_w[c]) (quantize_bias_static_impl). The
 * simulation's QDQ session takes such biases as graph inputs and feeds, per configuration, those int32 values
 * dequantized when the configuration quantizes the node's input activation and its weight with an integer scheme
 * per tensor or per channel (the export's DequantizeLinear weights), and the float bias otherwise. Configurations
 * without activations run in the unchanged session: their biases are the stored ones.
 */
import type { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { BIASED_OPS, dequantizedBias } from '../../core/export/activationQdq';
import type { Configuration } from '../../core/eval/configurations';
import { KEEP_FLOAT } from '../../core/eval/plan';
import { intParams } from '../../core/quant/fakeQuant';
import type { ActivationSite } from '../../core/quant/activationSites';
import { transposeChannels } from '../../core/quant/roles';
import { parseScheme } from '../../core/quant/schemes';
import type { EvalWeight } from './evalModel';

/** A bias the QDQ session takes as an input. */
export interface FedBias {
  node: string;
  /** The node's input activation (a site). */
  input: string;
  weight: string;
  bias: string;
  values: Float32Array;
  dims: number[];
}

const FLOAT32 = 1;

/** A float32 initializer's values (undefined: another type, or stored outside the model). */
function floatValues(t: onnx.ITensorProto): Float32Array | undefined {
  if (t.dataType !== FLOAT32 || t.dataLocation === 1) return undefined;
  if (t.rawData && t.rawData.length > 0) return new Float32Array(Uint8Array.from(t.rawData).buffer);
  return Float32Array.from(t.floatData ?? []);
}

/** Moves the biases of nodes reading a quantized site with a fed weight from initializers to graph inputs. */
export function fedBiases(graph: onnx.IGraphProto, sites: readonly ActivationSite[]): FedBias[] {
  const bySite = new Map(sites.map((s) => [s.tensor, s]));
  const fed = new Set((graph.input ?? []).map((v) => v.name ?? ''));
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const uses = new Map<string, number>();
  for (const n of graph.node ?? []) for (const t of n.input ?? []) uses.set(t, (uses.get(t) ?? 0) + 1);
  const out: FedBias[] = [];
  (graph.node ?? []).forEach((n, i) => {
    const name = n.name || `${n.opType}_${i}`;
    const [x, w, b] = n.input ?? [];
    if (!BIASED_OPS.has(n.opType ?? '') || (n.domain ?? '') !== '' || !b) return;
    const site = bySite.get(x);
    const init = initializers.get(b);
    if (!site?.consumers.includes(name) || !fed.has(w) || !init || uses.get(b) !== 1) return;
    const values = floatValues(init);
    if (values) out.push({ node: name, input: x, weight: w, bias: b, values, dims: (init.dims ?? []).map(Number) });
  });
  const moved = new Set(out.map((b) => b.bias));
  graph.initializer = (graph.initializer ?? []).filter((t) => !moved.has(t.name ?? ''));
  const declared = out.map((b) => ({
    name: b.bias,
    type: { tensorType: { elemType: FLOAT32, shape: { dim: b.dims.map((d) => ({ dimValue: d })) } } },
  }));
  graph.input = [...(graph.input ?? []), ...declared];
  return out;
}

/** The weight's scales under an integer scheme per tensor or per channel, as the export computes them. */
export function weightScales(w: EvalWeight, scheme: string): Float32Array | undefined {
  if (scheme === KEEP_FLOAT) return undefined;
  const parsed = parseScheme(scheme);
  if (parsed.kind !== 'int' || parsed.granularity.kind === 'block') return undefined;
  if (!w.layout) {
    const layout = { rows: 1, cols: w.values.length, channelAxis: 0 as const };
    return intParams(w.values, layout, { ...parsed, granularity: { kind: 'tensor' } }).scales.slice();
  }
  const view = w.transpose ? transposeChannels(w.values, w.transpose) : w.values;
  return intParams(view, w.layout, parsed).scales.slice();
}

/** The bias feeds of configurations in the QDQ session, computed once per bias, weight scheme and input scale. */
export class BiasFeeds {
  private readonly cache = new Map<string, ort.Tensor>();
  private readonly scales = new Map<string, Float32Array | undefined>();

  constructor(
    private readonly biases: readonly FedBias[],
    private readonly weights: ReadonlyMap<string, EvalWeight>,
  ) {}

  /** Every fed bias of `config`: dequantized int32 where its input and weight are quantized, else float. */
  feeds(config: Pick<Configuration, 'quantized' | 'activations'>): Record<string, ort.Tensor> {
    const out: Record<string, ort.Tensor> = {};
    for (const b of this.biases) {
      const p = config.activations?.get(b.input);
      const scheme = config.quantized.get(b.weight);
      const weight = this.weights.get(b.weight);
      const scales = p && scheme && weight ? this.scalesOf(weight, scheme) : undefined;
      const key = scales ? `${b.bias}\u0000${scheme}\u0000${p!.scale}` : b.bias;
      let tensor = this.cache.get(key);
      if (!tensor) {
        const values = scales ? dequantizedBias(b.values, p!.scale, scales) : b.values;
        tensor = new ort.Tensor('float32', values, b.dims);
        this.cache.set(key, tensor);
      }
      out[b.bias] = tensor;
    }
    return out;
  }

  private scalesOf(weight: EvalWeight, scheme: string): Float32Array | undefined {
    const key = `${weight.name}\u0000${scheme}`;
    if (!this.scales.has(key)) this.scales.set(key, weightScales(weight, scheme));
    return this.scales.get(key);
  }
}
