/**
 * Line styles of the sweep that stay distinct however many slices there are: ten hues that are told apart
 * on light and dark themes (Tableau 10), times four dash patterns, gives 40 different styles before any repeats.
 */

/** Ten distinct hues (Tableau 10). */
export const HUES = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
] as const;

/** Dash patterns (canvas `setLineDash`, in CSS pixels): solid, dashed, dotted, dash-dot. */
export const DASHES: readonly (readonly number[])[] = [[], [8, 4], [2, 3], [10, 3, 2, 3]];

/** The style of a line. */
export interface LineStyle {
  color: string;
  dash: readonly number[];
}

/** The style of the i-th line: hue first, then dash pattern, so neighbours differ in colour. */
export function lineStyle(i: number): LineStyle {
  return { color: HUES[i % HUES.length], dash: DASHES[Math.floor(i / HUES.length) % DASHES.length] };
}

/** How many lines get a style no other line has. */
export const DISTINCT_STYLES = HUES.length * DASHES.length;

/**
 * Styles of the sweep's slices, in order; `all` is drawn in the foreground colour (undefined here) and takes no
 * hue, so up to ten other slices each get their own solid hue; beyond ten, hue x dash combinations.
 */
export function sliceStyles(names: readonly string[]): (LineStyle | undefined)[] {
  let k = 0;
  return names.map((name) => (name === 'all' ? undefined : lineStyle(k++)));
}
