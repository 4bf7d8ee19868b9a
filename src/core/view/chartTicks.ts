/** Ticks of the count axes of the layer detail's charts (values per bin, channel rank): counts are integers. Pure. */

/** Increments for an axis of counts: 1, 2, 5, 10, 20, 50, ... (never a fraction). */
export const INTEGER_INCRS: number[] = Array.from({ length: 36 }, (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3));

/** The labels of a count axis' ticks: integers with thousands separators; a fractional tick gets no label. */
export function countTickLabels(ticks: readonly number[]): string[] {
  return ticks.map((v) =>
    Number.isFinite(v) && Math.abs(v - Math.round(v)) < 1e-9
      ? Math.round(v).toLocaleString('en-US', { maximumFractionDigits: 0 })
      : '',
  );
}
