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

/** The style of a line: hue, dash pattern and marker (filled or hollow points). */
export interface LineStyle {
  color: string;
  dash: readonly number[];
  /** Hollow point markers (every second group of ten), so a repeated hue differs in dash and in marker. */
  hollow: boolean;
}

/** The style of the i-th line: hue first, then dash pattern and marker, so neighbours differ in colour. */
export function lineStyle(i: number): LineStyle {
  const group = Math.floor(i / HUES.length) % DASHES.length;
  return { color: HUES[i % HUES.length], dash: DASHES[group], hollow: group % 2 === 1 };
}

/** A style as one string ("#4e79a7|8,4|hollow"): two lines look alike exactly when their keys are equal. */
export const styleKey = (s: LineStyle): string => `${s.color}|${s.dash.join(',')}|${s.hollow ? 'hollow' : 'filled'}`;

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
