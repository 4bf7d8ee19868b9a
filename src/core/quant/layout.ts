/**
 * The geometry of a weight under a scheme, in one place: how a layout splits a tensor into channels and a
 * reduction axis, where a scheme puts its blocks and scale groups, and what a channel is called.
 */
import type { Layout2D } from './fakeQuant';
import type { ChannelTranspose } from './roles';
import type { IntScheme, Scheme } from './schemes';

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/**
 * The matrix view of a weight that a layer reads at input `input`, with channels on the op's per-channel axis
 * and blocks along its reduction axis: MatMul B [K, N] per column N, Gemm per output feature (transB
 * respected), Conv per output channel, ConvTranspose per output channel (axis 1, analysed transposed), Gather
 * (embeddings) per row, LSTM / GRU / RNN W and R per gate row. Undefined when the op reads no such weight there.
 */
export function layerWeightLayout(
  op: string,
  input: number,
  dims: readonly number[],
  attrs: Readonly<Record<string, number>>,
): { layout: Layout2D; transpose?: ChannelTranspose } | undefined {
  switch (op) {
    case 'MatMul':
      if (input !== 1 || dims.length < 2) return undefined;
      return { layout: { rows: product(dims.slice(0, -1)), cols: dims[dims.length - 1], channelAxis: 1 } };
    case 'Gemm':
      if (input !== 1 || dims.length !== 2) return undefined;
      return { layout: { rows: dims[0], cols: dims[1], channelAxis: attrs.transB ? 0 : 1 } };
    case 'Conv':
      if (input !== 1 || dims.length < 3) return undefined;
      return { layout: { rows: dims[0], cols: product(dims.slice(1)), channelAxis: 0 } };
    case 'ConvTranspose': {
      // Output channels are axis 1 of [C_in, C_out/group, k...] (onnxruntime's per-channel axis for it):
      // analysed as [C_out/group, C_in * k...], blocks along C_in * k.
      if (input !== 1 || dims.length < 3) return undefined;
      const transpose = { outer: dims[0], channels: dims[1], inner: product(dims.slice(2)) };
      return { layout: { rows: dims[1], cols: dims[0] * transpose.inner, channelAxis: 0 }, transpose };
    }
    case 'LSTM':
    case 'GRU':
    case 'RNN':
      // W [dirs, gates x hidden, in] and R [dirs, gates x hidden, hidden]: a channel per row, blocks along the last axis.
      if ((input !== 1 && input !== 2) || dims.length !== 3) return undefined;
      return { layout: { rows: dims[0] * dims[1], cols: dims[2], channelAxis: 0 } };
    case 'Gather':
      if (input !== 0 || dims.length !== 2 || attrs.axis) return undefined;
      return { layout: { rows: dims[0], cols: dims[1], channelAxis: 0 } };
    default:
      return undefined;
  }
}

/** Channels and reduction length of a tensor under `layout` (one channel holding everything without one). */
export function channelGeometry(length: number, layout: Layout2D | undefined): { channels: number; reduction: number } {
  if (!layout) return { channels: 1, reduction: length };
  return layout.channelAxis === 0
    ? { channels: layout.rows, reduction: layout.cols }
    : { channels: layout.cols, reduction: layout.rows };
}

/** Block size along the reduction axis when the scheme blocks this weight (an integer block scheme on a weight with a layout). */
export function schemeBlockSize(scheme: Scheme, hasLayout: boolean): number | undefined {
  return hasLayout && scheme.kind === 'int' && scheme.granularity.kind === 'block'
    ? scheme.granularity.size
    : undefined;
}

/** Whether the scheme gives this weight a scale per group (channel or block) rather than one per tensor. */
export function hasGroupScales(scheme: Scheme, hasLayout: boolean): boolean {
  return hasLayout && scheme.kind === 'int' && scheme.granularity.kind !== 'tensor';
}

/** Number of scales (groups) an integer scheme stores for a weight of `elements` values. */
export function scaleGroups(scheme: IntScheme, elements: number, layout: Layout2D | undefined): number {
  if (!hasGroupScales(scheme, !!layout)) return 1;
  const { channels, reduction } = channelGeometry(elements, layout);
  const g = scheme.granularity;
  return g.kind === 'block' ? channels * Math.ceil(reduction / g.size) : channels;
}

/** What a channel of a weight is, readable, from its first consumer's op and its layout's channel axis. */
export function channelLabel(op: string | undefined, axis: 0 | 1 | undefined): string {
  if (axis === undefined) return 'tensor';
  if (op === 'Gather') return 'row (embedding)';
  if (op === 'MatMul' || op === 'MatMulNBits') return 'output column';
  if (op === 'LSTM' || op === 'GRU' || op === 'RNN') return 'gate row';
  return 'output channel';
}
