/**
 * The stored format of each exported weight, chosen from its scheme and its consumer: the format onnxruntime
 * runs (DequantizeLinear int8 / int4 / float8, com.microsoft MatMulNBits, a 16-bit float with a Cast), or
 * "left float" with the reason.
 */
import type { Consumer } from '../onnx/consumers';
import { DType } from '../onnx/dtypes';
import type { Layout2D } from '../quant/fakeQuant';
import type { ChannelTranspose } from '../quant/roles';
import type { IntScheme, Scheme } from '../quant/schemes';

/** A weight the export may quantize, as planning sees it. */
export interface ExportWeight {
  name: string;
  dims: number[];
  layout?: Layout2D;
  transpose?: ChannelTranspose;
  /** Nodes reading the tensor itself. */
  direct: Consumer[];
  /** Layers using it (through Cast, Reshape...): how plans name it. */
  layers: Consumer[];
}

/** DequantizeLinear of a stored integer or float8 tensor. */
export interface DqFormat {
  kind: 'dq';
  /** Element type of the stored values (DType). */
  storage: number;
  granularity: 'tensor' | 'axis' | 'block';
  /** Axis of the scales in the stored tensor (per axis, blocked). */
  axis?: number;
  blockSize?: number;
  /** The stored tensor's dims: the 2-D layout when the scales cannot follow the weight's own axes, then a Reshape. */
  storedDims: number[];
  asymmetric: boolean;
  /**
   * A Reshape after the DequantizeLinear even when the dims agree: onnxruntime 1.30's transpose optimizer aborts
   * the process on a per-axis DequantizeLinear feeding a Transpose; a Reshape between them keeps it away.
   */
  reshape?: boolean;
  /**
   * An embedding's int4 / uint4 blocks read by `com.microsoft` `GatherBlockQuantized`, which replaces the Gather (the
   * stored tensors are those of the blocked DequantizeLinear, without the DequantizeLinear node).
   */
  gather?: Consumer;
}

/** com.microsoft MatMulNBits replacing the MatMul that reads the weight. */
export interface NBitsFormat {
  kind: 'nbits';
  blockSize: number;
  asymmetric: boolean;
  /** The MatMul node replaced (its name and position in the main graph). */
  node: Consumer;
  K: number;
  N: number;
}

/** A 16-bit float initializer and a Cast to float32. */
export interface CastFormat {
  kind: 'cast';
  storage: typeof DType.float16 | typeof DType.bfloat16;
}

/** How one weight is exported. */
export type ExportFormat = DqFormat | NBitsFormat | CastFormat | { kind: 'float'; reason: string };

/** Storage type of an integer scheme: 8-bit up to int8, 4-bit for int2..int4; unsigned when asymmetric. */
export function intStorage(scheme: IntScheme): number {
  if (scheme.bits <= 4) return scheme.symmetric ? DType.int4 : DType.uint4;
  return scheme.symmetric ? DType.int8 : DType.uint8;
}

/** The single MatMul reading the weight as B, directly, when MatMulNBits may replace it. */
function nbitsNode(w: ExportWeight): Consumer | undefined {
  if (w.dims.length !== 2 || w.direct.length !== 1 || w.layers.length !== 1) return undefined;
  const c = w.direct[0];
  if (c.domain !== '' || c.op !== 'MatMul' || c.input !== 1 || c.graph !== 'main') return undefined;
  return w.layers[0] === c || (w.layers[0].node === c.node && w.layers[0].input === 1) ? c : undefined;
}

/**
 * The single Gather reading the weight as its data along axis 0, when GatherBlockQuantized (onnxruntime 1.30, CPU)
 * may replace it: a 2-D table, blocks along its rows of a power of 2 from 16, 4-bit storage.
 */
function gatherNode(w: ExportWeight, storage: number, blockSize: number): Consumer | undefined {
  if (storage !== DType.int4 && storage !== DType.uint4) return undefined;
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) return undefined;
  if (w.dims.length !== 2 || w.direct.length !== 1 || w.layers.length !== 1) return undefined;
  const c = w.direct[0];
  if (c.domain !== '' || c.op !== 'Gather' || c.input !== 0 || c.graph !== 'main' || (c.attrs.axis ?? 0) !== 0)
    return undefined;
  return w.layers[0].node === c.node ? c : undefined;
}

/** DequantizeLinear geometry of an integer scheme on a weight with a layout (or why it cannot be expressed). */
function dqGeometry(
  w: ExportWeight,
  scheme: IntScheme,
  layout: Layout2D,
): Omit<DqFormat, 'kind' | 'storage' | 'asymmetric'> | string {
  const { dims } = w;
  const rank = dims.length;
  const flat = [layout.rows, layout.cols];
  const g = scheme.granularity;
  if (g.kind === 'tensor') return { granularity: 'tensor', storedDims: dims };
  if (w.transpose) {
    if (g.kind === 'channel') return { granularity: 'axis', axis: 1, storedDims: dims };
    return `blocks of a ${w.layers[0]?.op ?? 'ConvTranspose'} weight run across its axes; DequantizeLinear cannot express them`;
  }
  if (g.kind === 'channel') {
    if (layout.channelAxis === 0 && dims[0] === layout.rows) return { granularity: 'axis', axis: 0, storedDims: dims };
    if (layout.channelAxis === 1 && dims[rank - 1] === layout.cols) {
      return { granularity: 'axis', axis: rank - 1, storedDims: dims };
    }
    return { granularity: 'axis', axis: layout.channelAxis, storedDims: flat };
  }
  return {
    granularity: 'block',
    axis: layout.channelAxis === 0 ? 1 : 0,
    blockSize: g.size,
    storedDims: rank === 2 ? dims : flat,
  };
}

/** The format of a weight under a scheme (`accuracyLevel` only matters to MatMulNBits, recorded elsewhere). */
export function exportFormat(w: ExportWeight, scheme: Scheme): ExportFormat {
  if (scheme.kind === 'float') {
    if (scheme.format === 'fp16') return { kind: 'cast', storage: DType.float16 };
    if (scheme.format === 'bf16') return { kind: 'cast', storage: DType.bfloat16 };
    const storage = scheme.format === 'fp8-e4m3' ? DType.float8e4m3fn : DType.float8e5m2;
    return { kind: 'dq', storage, granularity: 'tensor', storedDims: w.dims, asymmetric: false };
  }
  const asymmetric = !scheme.symmetric;
  const storage = intStorage(scheme);
  const layout = w.layout;
  if (!layout) return { kind: 'dq', storage, granularity: 'tensor', storedDims: w.dims, asymmetric };
  const g = scheme.granularity;
  const matmul = g.kind === 'block' && scheme.bits <= 4 ? nbitsNode(w) : undefined;
  if (matmul && g.kind === 'block' && layout.channelAxis === 1) {
    return { kind: 'nbits', blockSize: g.size, asymmetric, node: matmul, K: w.dims[0], N: w.dims[1] };
  }
  const geometry = dqGeometry(w, scheme, layout);
  if (typeof geometry === 'string') return { kind: 'float', reason: geometry };
  const gather =
    geometry.granularity === 'block' && geometry.axis === 1 && layout.channelAxis === 0
      ? gatherNode(w, storage, geometry.blockSize ?? 0)
      : undefined;
  if (gather) return { kind: 'dq', storage, asymmetric, ...geometry, gather };
  const reshape = geometry.granularity !== 'tensor' && w.direct.some((c) => c.op === 'Transpose');
  return { kind: 'dq', storage, asymmetric, ...geometry, ...(reshape ? { reshape } : {}) };
}

/** Says so when the blocked axis is not a multiple of the block size (the last block is shorter, as in the simulation). */
function shortBlock(f: DqFormat): string {
  const along = f.storedDims[f.axis ?? 0] ?? 0;
  return f.blockSize && along % f.blockSize
    ? ` (${along} is not a multiple of ${f.blockSize}: the last block is shorter)`
    : '';
}

/** Readable name of a format: "MatMulNBits uint4 blocks of 32", "DequantizeLinear int8 per axis 1", "float16 + Cast". */
export function describeFormat(f: ExportFormat, accuracyLevel = 0): string {
  const type = (code: number): string =>
    ({
      [DType.int8]: 'int8',
      [DType.uint8]: 'uint8',
      [DType.int4]: 'int4',
      [DType.uint4]: 'uint4',
      [DType.float8e4m3fn]: 'float8e4m3fn',
      [DType.float8e5m2]: 'float8e5m2',
      [DType.float16]: 'float16',
      [DType.bfloat16]: 'bfloat16',
    })[code] ?? `dtype(${code})`;
  switch (f.kind) {
    case 'float':
      return `left float: ${f.reason}`;
    case 'cast':
      return `${type(f.storage)} + Cast`;
    case 'nbits': {
      const padded =
        f.K % f.blockSize ? ` (K=${f.K} is not a multiple of ${f.blockSize}: the last block is padded with zeros)` : '';
      return `MatMulNBits uint4 blocks of ${f.blockSize}${f.asymmetric ? ' with zero points' : ''}, accuracy_level ${accuracyLevel}${padded}`;
    }
    case 'dq': {
      if (f.gather)
        return `GatherBlockQuantized ${type(f.storage)} blocks of ${f.blockSize} along each row${f.asymmetric ? ' with zero points' : ''}${shortBlock(f)}`;
      const how =
        f.granularity === 'tensor'
          ? 'per tensor'
          : f.granularity === 'axis'
            ? `per axis ${f.axis}`
            : `blocks of ${f.blockSize} along axis ${f.axis}${shortBlock(f)}`;
      return `DequantizeLinear ${type(f.storage)} ${how}${f.asymmetric ? ' with zero point' : ''}`;
    }
  }
}
