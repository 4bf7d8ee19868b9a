/** Decides what a weight is for (and whether and how it is quantized) from the nodes that read it. */
import type { Consumer, ConsumerIndex } from '../onnx/consumers';
import { DType } from '../onnx/dtypes';
import { NORMS } from '../onnx/layerKinds';
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
  /** Why the weight is not analysed under the schemes, or analysed per tensor only. */
  reason?: string;
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
/** Ops that only move, cast or dequantize values: a weight is followed through their data inputs to its layer. */
const PASS_THROUGH = new Set(['Cast', 'DequantizeLinear', 'Identity']);
const SHAPE_ONLY = new Set(['Slice', 'Split', 'Concat', 'Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Flatten']);
/** Tensors visited at most when following one weight (bounded walk). */
const WALK_LIMIT = 256;

/** A layer reading a weight, and the shape-only ops (besides Cast / DequantizeLinear / Identity) on the way. */
export interface ConsumerPath {
  consumer: Consumer;
  via: string[];
  /** The shape-only nodes on the way (with their attributes). */
  steps: Consumer[];
}

/** Whether a node passes the value read at this input on to its outputs unchanged but for shape or type. */
function passes(c: Consumer): boolean {
  if (c.domain !== '') return false;
  if (PASS_THROUGH.has(c.op)) return c.input === 0;
  return SHAPE_ONLY.has(c.op) && (c.op === 'Concat' || c.input === 0);
}

/**
 * The layers using a tensor with the shape-only ops on the way: follows Cast / DequantizeLinear / Identity and
 * Slice / Split / Concat / Transpose / Reshape / Squeeze / Unsqueeze / Flatten through their data inputs (a
 * bounded walk); a pass-through whose output nothing reads is the layer itself.
 */
export function consumerPaths(name: string, consumers: ConsumerIndex): ConsumerPath[] {
  const out: ConsumerPath[] = [];
  const seen = new Set<string>([name]);
  const walk = (tensor: string, via: string[], steps: Consumer[], depth: number): void => {
    for (const c of consumers.get(tensor) ?? []) {
      const next = passes(c) && depth < 16 ? (c.op === 'Split' ? c.outputs : c.outputs.slice(0, 1)) : [];
      const readers = next.filter((o) => o && (consumers.get(o) ?? []).length > 0);
      if (readers.length === 0) {
        out.push({ consumer: c, via, steps });
        continue;
      }
      const moved = !PASS_THROUGH.has(c.op);
      const [nextVia, nextSteps] = moved
        ? [
            [...via, c.op],
            [...steps, c],
          ]
        : [via, steps];
      for (const o of readers) {
        if (seen.has(o) || seen.size >= WALK_LIMIT) continue;
        seen.add(o);
        walk(o, nextVia, nextSteps, depth + 1);
      }
    }
  };
  walk(name, [], [], 0);
  return out;
}

/** The layers using a tensor, following pass-through and shape-only ops (see consumerPaths). */
export function effectiveConsumers(name: string, consumers: ConsumerIndex): Consumer[] {
  return consumerPaths(name, consumers).map((p) => p.consumer);
}

/** A role at one consumer, with the layout for quantizable weights and, without one, the reason why not. */
interface SlotRole {
  role: WeightRole;
  layout?: Layout2D;
  transpose?: ChannelTranspose;
  reason?: string;
}

/** Input slots holding a layer's weight (what layerWeightLayout gives channels when the shape fits). */
const WEIGHT_SLOTS: Readonly<Record<string, readonly number[]>> = {
  MatMul: [1],
  Gemm: [1],
  Conv: [1],
  ConvTranspose: [1],
  Gather: [0],
  LSTM: [1, 2],
  GRU: [1, 2],
  RNN: [1, 2],
};

/** Role of a weight read by a node at an input slot, with the layout for quantizable weights. */
function roleFor(c: Consumer, dims: readonly number[]): SlotRole {
  if (c.domain !== '' && c.domain !== 'com.microsoft') return { role: 'other' };
  const weight = layerWeightLayout(c.op, c.input, dims, c.attrs);
  if (weight) return { role: c.op === 'Gather' ? 'embedding' : 'weight', ...weight };
  return { role: slotRole(c, dims) };
}

const RECURRENT = new Set(['LSTM', 'GRU', 'RNN']);

/** Whether a Concat joins along another axis than `last` (its axis attribute, negative counted from the end). */
function isNotLast(concat: Consumer, last: number): boolean {
  const axis = concat.attrs.axis;
  return axis !== undefined && axis !== last && axis !== -1;
}

/** Role of a weight reaching its layer through shape-only ops: the layout mapped through a 2-D Transpose, else per tensor. */
function roleThrough(p: ConsumerPath, dims: readonly number[]): SlotRole {
  const c = p.consumer;
  if (p.via.length === 0) return roleFor(c, dims);
  if (c.domain !== '' || !(WEIGHT_SLOTS[c.op] ?? []).includes(c.input)) return { role: slotRole(c, dims) };
  const role = c.op === 'Gather' ? 'embedding' : 'weight';
  if (p.via.length === 1 && p.via[0] === 'Transpose' && dims.length === 2) {
    const t = layerWeightLayout(c.op, c.input, [dims[1], dims[0]], c.attrs);
    if (t && !t.transpose) {
      return { role, layout: { rows: dims[0], cols: dims[1], channelAxis: t.layout.channelAxis === 0 ? 1 : 0 } };
    }
  }
  // Concatenated along any axis but the last: every row of the piece is a row (a channel) of the recurrent weight.
  const last = dims.length - 1;
  if (RECURRENT.has(c.op) && dims.length === 3 && p.steps.every((st) => st.op === 'Concat' && isNotLast(st, last))) {
    return { role, layout: { rows: dims[0] * dims[1], cols: dims[2], channelAxis: 0 } };
  }
  return {
    role,
    reason: `reaches ${c.op} through ${[...new Set(p.via)].join(', ')}: its channel axis there is not mapped, so it is analysed per tensor`,
  };
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
    case 'LSTM':
    case 'GRU':
    case 'RNN':
      return c.input === 3 ? 'bias' : 'other';
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

/** Why a weight with this role is not analysed under the schemes (undefined for layer weights). */
function roleReason(main: SlotRole, layers: readonly Consumer[], dtype: number): string | undefined {
  if ((main.role === 'weight' || main.role === 'embedding') && !FLOAT_DTYPES.has(dtype)) {
    return 'integer values are not quantized';
  }
  switch (main.role) {
    case 'bias':
      return 'biases stay in float';
    case 'norm':
      return 'normalization parameters stay in float';
    case 'shape':
      return 'shape or index data';
    case 'scale':
    case 'zero-point':
      return 'scale or zero point of a stored-quantized weight';
    case 'other': {
      if (layers.length === 0) return 'read by no node';
      const ops = [...new Set(layers.map((l) => `${l.op} input ${l.input}`))].slice(0, 3);
      return `read as ${ops.join(', ')}, which is not a layer weight`;
    }
    default:
      return undefined;
  }
}

/** Classifies a weight from its consumers. */
export function planWeight(ref: WeightRef, consumers: ConsumerIndex): WeightPlan {
  const direct = consumers.get(ref.name) ?? [];
  const paths = consumerPaths(ref.name, consumers);
  const layers = paths.map((p) => p.consumer);
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
    return { role: stored.role, quantizable: false, layers, reason: roleReason(stored, layers, ref.dtype) };
  }
  const roles = paths.map((p) => roleThrough(p, ref.dims));
  const main = roles.find((r) => r.role === 'weight' || r.role === 'embedding') ??
    roles.find((r) => r.role !== 'other') ?? { role: 'other' as const };
  const quantizable = (main.role === 'weight' || main.role === 'embedding') && FLOAT_DTYPES.has(ref.dtype);
  const reason = quantizable ? main.reason : roleReason(main, layers, ref.dtype);
  return {
    role: main.role,
    quantizable,
    layout: quantizable ? main.layout : undefined,
    transpose: quantizable ? main.transpose : undefined,
    layers,
    ...(reason ? { reason } : {}),
  };
}

/** out[o][c][i] <- data[c][o][i]: undoes transposeChannels (the same move with outer and channels swapped). */
export function untransposeChannels(data: Float32Array, t: ChannelTranspose): Float32Array {
  return transposeChannels(data, { outer: t.channels, channels: t.outer, inner: t.inner });
}
