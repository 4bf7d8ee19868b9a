/** Decides what a weight is for (and whether and how it is quantized) from the nodes that read it. */
import type { Consumer } from '../onnx/consumers';
import { DType } from '../onnx/dtypes';
import type { WeightRef } from '../onnx/weights';
import type { Layout2D } from './fakeQuant';
import { layerWeightLayout } from './layout';

/** What a weight tensor does in the model. */
export type WeightRole =
  'weight' | 'embedding' | 'bias' | 'norm' | 'quantized' | 'scale' | 'zero-point' | 'shape' | 'other';

/** How QuantLens treats a weight. */
export interface WeightPlan {
  role: WeightRole;
  /** Analysed under every scheme. */
  quantizable: boolean;
  /** The matrix view with channels and the reduction axis; undefined when only per-tensor schemes apply. */
  layout?: Layout2D;
  /** The node inputs that use the weight, looking through Cast and DequantizeLinear. */
  layers: Consumer[];
  /**
   * Set when channels are a middle axis (ConvTranspose [C_in, C_out/group, k...]): the values, viewed as
   * [outer, channels, inner], are analysed transposed to [channels, outer * inner] (`layout` is of that view).
   */
  transpose?: ChannelTranspose;
}

/** A weight viewed as [outer, channels, inner], to be read as [channels, outer, inner]. */
export interface ChannelTranspose {
  outer: number;
  channels: number;
  inner: number;
}

/** data[o][c][i] -> out[c][o][i]. */
export function transposeChannels(data: Float32Array, t: ChannelTranspose): Float32Array {
  const out = new Float32Array(data.length);
  const { outer, channels, inner } = t;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const from = (o * channels + c) * inner;
      out.set(data.subarray(from, from + inner), (c * outer + o) * inner);
    }
  }
  return out;
}

const FLOAT_DTYPES = new Set<number>([DType.float32, DType.float16, DType.float64, DType.bfloat16]);
const PASS_THROUGH = new Set(['Cast', 'DequantizeLinear', 'Identity']);
const NORMS = new Set([
  'LayerNormalization',
  'BatchNormalization',
  'InstanceNormalization',
  'GroupNormalization',
  'SimplifiedLayerNormalization',
  'SkipLayerNormalization',
  'RMSNormalization',
]);

/** The layers using a tensor, following Cast / DequantizeLinear / Identity outputs (input 0 only). */
export function effectiveConsumers(name: string, consumers: Map<string, Consumer[]>, depth = 0): Consumer[] {
  const direct = consumers.get(name) ?? [];
  return direct.flatMap((c) =>
    PASS_THROUGH.has(c.op) && c.domain === '' && c.input === 0 && depth < 4
      ? effectiveConsumers(c.outputs[0] ?? '', consumers, depth + 1).concat(
          (consumers.get(c.outputs[0] ?? '') ?? []).length ? [] : [c],
        )
      : [c],
  );
}

/** Role of a weight read by a node at an input slot, with the layout for quantizable weights. */
function roleFor(
  c: Consumer,
  dims: readonly number[],
): { role: WeightRole; layout?: Layout2D; transpose?: ChannelTranspose } {
  if (c.domain !== '' && c.domain !== 'com.microsoft') return { role: 'other' };
  const weight = layerWeightLayout(c.op, c.input, dims, c.attrs);
  if (weight) return { role: c.op === 'Gather' ? 'embedding' : 'weight', ...weight };
  return { role: slotRole(c, dims) };
}

/** Role of a weight at a node's input slot other than a layer's weight with channels (see layerWeightLayout). */
function slotRole(c: Consumer, dims: readonly number[]): WeightRole {
  switch (c.op) {
    case 'Gemm':
    case 'Conv':
      return c.input === 2 ? 'bias' : 'other';
    case 'ConvTranspose':
      return c.input === 1 ? 'weight' : c.input === 2 ? 'bias' : 'other';
    case 'DequantizeLinear':
      return (['quantized', 'scale', 'zero-point'] as const)[c.input] ?? 'other';
    case 'MatMulNBits':
      return (['other', 'quantized', 'scale', 'zero-point'] as const)[c.input] ?? 'other';
    case 'QLinearConv':
    case 'QLinearMatMul':
      return QLINEAR_ROLES[c.input] ?? 'other';
    case 'Add':
      return dims.length === 1 ? 'bias' : 'other';
    case 'Reshape':
    case 'Expand':
    case 'Tile':
    case 'Slice':
    case 'Unsqueeze':
    case 'Squeeze':
    case 'ConstantOfShape':
      return c.input >= 1 ? 'shape' : 'other';
    default:
      return NORMS.has(c.op) && c.input >= 1 ? 'norm' : 'other';
  }
}

/** Inputs of QLinearConv / QLinearMatMul: x, its scale and zero point, w, its scale and zero point, y's, bias. */
const QLINEAR_ROLES: readonly WeightRole[] = [
  'other',
  'scale',
  'zero-point',
  'quantized',
  'scale',
  'zero-point',
  'scale',
  'zero-point',
  'bias',
];

/** Classifies a weight from its consumers. */
export function planWeight(ref: WeightRef, consumers: Map<string, Consumer[]>): WeightPlan {
  const direct = consumers.get(ref.name) ?? [];
  const layers = effectiveConsumers(ref.name, consumers);
  // A stored-quantized weight keeps its role from DequantizeLinear / MatMulNBits / QLinear*, read directly.
  const stored = direct
    .map((c) => roleFor(c, ref.dims))
    .find((r) => ['quantized', 'scale', 'zero-point'].includes(r.role));
  if (stored?.role === 'quantized') {
    // The quantized values of a layer's weight: analysed (dequantized) like the float weight it stands for.
    const main = layers.map((c) => roleFor(c, ref.dims)).find((r) => r.role === 'weight' || r.role === 'embedding');
    return { role: 'quantized', quantizable: true, layout: main?.layout, transpose: main?.transpose, layers };
  }
  if (stored) {
    return { role: stored.role, quantizable: false, layers };
  }
  const roles = layers.map((c) => roleFor(c, ref.dims));
  const main = roles.find((r) => r.role === 'weight' || r.role === 'embedding') ??
    roles.find((r) => r.role !== 'other') ?? { role: 'other' as const };
  const quantizable = (main.role === 'weight' || main.role === 'embedding') && FLOAT_DTYPES.has(ref.dtype);
  return {
    role: main.role,
    quantizable,
    layout: quantizable ? main.layout : undefined,
    transpose: quantizable ? main.transpose : undefined,
    layers,
  };
}

/** out[o][c][i] <- data[c][o][i]: undoes transposeChannels (the same move with outer and channels swapped). */
export function untransposeChannels(data: Float32Array, t: ChannelTranspose): Float32Array {
  return transposeChannels(data, { outer: t.channels, channels: t.outer, inner: t.inner });
}
