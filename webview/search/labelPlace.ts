/**
 * Where the plan chart's marks ("chosen", "≈") go (pure: no DOM): next to their marker, on the first side whose box
 * overlaps no marker (its ring included), no label placed before and stays inside the plot; else on the side that
 * overlaps least.
 */

/** A box, top-left corner and size. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A marker: centre and radius (its ring's, when ringed). */
export interface Disc {
  x: number;
  y: number;
  r: number;
}

/** Sides tried, in order: right, above, left, below, then the corners. */
const SIDES: [number, number][] = [
  [1, 0],
  [0, -1],
  [-1, 0],
  [0, 1],
  [1, -1],
  [-1, -1],
  [1, 1],
  [-1, 1],
];

/** The box of a `w` x `h` label on side (sx, sy) of the disc, `gap` away from its edge. */
export function sideBox(d: Disc, w: number, h: number, gap: number, [sx, sy]: [number, number]): Box {
  const x = sx > 0 ? d.x + d.r + gap : sx < 0 ? d.x - d.r - gap - w : d.x - w / 2;
  const y = sy > 0 ? d.y + d.r + gap : sy < 0 ? d.y - d.r - gap - h : d.y - h / 2;
  return { x, y, w, h };
}

/** Area of a box's overlap with another box. */
export function boxOverlap(a: Box, b: Box): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Area of a box's overlap with a disc (with the disc's bounding square: a little more than the disc). */
export function discOverlap(b: Box, d: Disc): number {
  return boxOverlap(b, { x: d.x - d.r, y: d.y - d.r, w: 2 * d.r, h: 2 * d.r });
}

/** How much of the box lies outside `area`. */
function outside(b: Box, area: Box): number {
  return b.w * b.h - boxOverlap(b, area);
}

/**
 * The box of a `w` x `h` label of `own` (a disc, its ring included), clear of `discs` (every marker, `own` among
 * them or not), of the labels already `placed` and inside `area`, when some side allows it; `first`: the side
 * tried first.
 */
export function placeLabel(
  own: Disc,
  w: number,
  h: number,
  gap: number,
  discs: readonly Disc[],
  placed: readonly Box[],
  area: Box,
  first?: [number, number],
): Box {
  let best: { box: Box; cost: number } | undefined;
  for (const side of first ? [first, ...SIDES] : SIDES) {
    const box = sideBox(own, w, h, gap, side);
    const cost =
      discs.reduce((s, d) => s + discOverlap(box, d), 0) +
      placed.reduce((s, p) => s + boxOverlap(box, p), 0) +
      2 * outside(box, area);
    if (cost === 0) return box;
    if (!best || cost < best.cost) best = { box, cost };
  }
  return best!.box;
}
