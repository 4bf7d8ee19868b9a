/** The analysis bar's words: what was analysed under the schemes, told apart from the tensors only read. Pure. */

/** Counts of an analysis: tensors with values, and of them the quantizable weights analysed under the schemes. */
export interface AnalysisCounts {
  done: number;
  total: number;
  /** Quantizable weights (analysed under every scheme); the other tensors (biases, norms) are only read. */
  quantizable?: number;
  schemes: number;
  ms?: number;
}

const weights = (n: number): string => `${n} weight${n === 1 ? '' : 's'}`;

/**
 * "12 weights analysed under 6 schemes in 0.42 s (18 other tensors not quantized)": the count is of the weights
 * analysed under the schemes, not of every tensor read (biases and norms have statistics but no SQNR).
 */
export function analysisDoneText(c: AnalysisCounts): string {
  const analysed = c.quantizable ?? c.total;
  const time = c.ms !== undefined ? ` in ${(c.ms / 1000).toFixed(2)} s` : '';
  const others = c.total - analysed;
  const rest = others > 0 ? ` (${others} other tensor${others === 1 ? '' : 's'} not quantized, see Overview)` : '';
  return `${weights(analysed)} analysed under ${c.schemes} scheme${c.schemes === 1 ? '' : 's'}${time}${rest}`;
}
