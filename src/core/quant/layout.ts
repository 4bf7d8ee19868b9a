/**
 * The geometry of a weight under a scheme, in one place: how a layout splits a tensor into channels and a
 * reduction axis, where a scheme puts its blocks and scale groups, and what a channel is called.
 */
import type { Layout2D } from './fakeQuant';
import type { IntScheme, Scheme } from './schemes';

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
  return 'output channel';
}
