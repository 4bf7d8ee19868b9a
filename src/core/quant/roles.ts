/** Decides what a weight is for (and whether and how it is quantized) from the nodes that read it. */
import type { Consumer } from '../onnx/consumers';
import { DataType } from '../onnx/dtypes';
import type { WeightRef } from '../onnx/weights';
import type { Layout2D } from './fakeQuant';

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

const FLOAT_DTYPES = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.BFLOAT16]);
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
const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

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
  const ms = c.domain === 'com.microsoft';
  if (c.domain === '' || ms) {
    switch (c.op) {
      case 'MatMul':
        if (c.input === 1 && dims.length >= 2) {
          return {
            role: 'weight',
            layout: { rows: product(dims.slice(0, -1)), cols: dims[dims.length - 1], channelAxis: 1 },
          };
        }
        break;
      case 'Gemm':
        if (c.input === 1 && dims.length === 2) {
          return {
            role: 'weight',
            layout: c.attrs.transB
              ? { rows: dims[0], cols: dims[1], channelAxis: 0 }
              : { rows: dims[0], cols: dims[1], channelAxis: 1 },
          };
        }
        if (c.input === 2) return { role: 'bias' };
        break;
      case 'Conv':
        if (c.input === 1 && dims.length >= 3) {
          return { role: 'weight', layout: { rows: dims[0], cols: product(dims.slice(1)), channelAxis: 0 } };
        }
        if (c.input === 2) return { role: 'bias' };
        break;
      case 'ConvTranspose':
        // Output channels are axis 1 of [C_in, C_out/group, k...] (onnxruntime's per-channel axis for it):
        // analysed as [C_out/group, C_in * k...], blocks along C_in * k.
        if (c.input === 1 && dims.length >= 3) {
          const transpose = { outer: dims[0], channels: dims[1], inner: product(dims.slice(2)) };
          return {
            role: 'weight',
            layout: { rows: dims[1], cols: dims[0] * transpose.inner, channelAxis: 0 },
            transpose,
          };
        }
        if (c.input === 1) return { role: 'weight' };
        if (c.input === 2) return { role: 'bias' };
        break;
      case 'Gather':
        if (c.input === 0 && dims.length === 2 && !c.attrs.axis) {
          return { role: 'embedding', layout: { rows: dims[0], cols: dims[1], channelAxis: 0 } };
        }
        break;
      case 'DequantizeLinear':
        return { role: (['quantized', 'scale', 'zero-point'] as const)[c.input] ?? 'other' };
      case 'MatMulNBits':
        return { role: (['other', 'quantized', 'scale', 'zero-point'] as const)[c.input] ?? 'other' };
      case 'QLinearConv':
      case 'QLinearMatMul': {
        const roles: WeightRole[] = [
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
        return { role: roles[c.input] ?? 'other' };
      }
      case 'Add':
        if (dims.length === 1) return { role: 'bias' };
        break;
      case 'Reshape':
      case 'Expand':
      case 'Tile':
      case 'Slice':
      case 'Unsqueeze':
      case 'Squeeze':
      case 'ConstantOfShape':
        if (c.input >= 1) return { role: 'shape' };
        break;
      default:
        if (NORMS.has(c.op) && c.input >= 1) return { role: 'norm' };
    }
  }
  return { role: 'other' };
}

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
