/**
 * The weight diff of a quantized model against its float original: weights matched by name or by the layer
 * (node) that reads them, per pair the SQNR of the quantized model's dequantized weight against the original's,
 * and the weights found in only one of the two.
 */

/** A weight as the diff sees it. */
export interface DiffWeight {
  name: string;
  /** The layer (node) reading it, through Cast / DequantizeLinear / Reshape. */
  layer?: string;
  dims: number[];
  /** How it is stored: "float32", "float16", or the stored quantization's summary. */
  format: string;
  /** Stored by MatMulNBits: the dequantized values are [N, K], the original MatMul weight [K, N]. */
  transposed?: boolean;
}

/** A matched pair. */
export interface DiffPair {
  original: DiffWeight;
  quantized: DiffWeight;
  matchedBy: 'name' | 'layer';
}

/** One compared pair in the report. */
export interface DiffEntry {
  name: string;
  quantizedName: string;
  layer?: string;
  matchedBy: 'name' | 'layer';
  format: string;
  /** 10 log10(sum w^2 / sum (w - w_hat)^2); Infinity when every value is equal. */
  sqnrDb: number;
  exact: boolean;
  maxAbsError: number;
}

/** Matches weights by name first, then by the layer reading them (first come, each used once). */
export function matchWeights(
  original: readonly DiffWeight[],
  quantized: readonly DiffWeight[],
): { pairs: DiffPair[]; onlyOriginal: DiffWeight[]; onlyQuantized: DiffWeight[] } {
  const left = new Set(quantized);
  const byName = new Map(quantized.map((q) => [q.name, q]));
  const pairs: DiffPair[] = [];
  const unmatched: DiffWeight[] = [];
  for (const o of original) {
    const q = byName.get(o.name);
    if (q && left.has(q)) {
      pairs.push({ original: o, quantized: q, matchedBy: 'name' });
      left.delete(q);
    } else {
      unmatched.push(o);
    }
  }
  const onlyOriginal: DiffWeight[] = [];
  for (const o of unmatched) {
    const q = o.layer === undefined ? undefined : [...left].find((x) => x.layer === o.layer && sameSize(o, x));
    if (q) {
      pairs.push({ original: o, quantized: q, matchedBy: 'layer' });
      left.delete(q);
    } else {
      onlyOriginal.push(o);
    }
  }
  return { pairs, onlyOriginal, onlyQuantized: [...left] };
}

const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
const sameSize = (a: DiffWeight, b: DiffWeight): boolean => size(a.dims) === size(b.dims);

/** Compares the original values with the quantized model's dequantized ones (transposed back for MatMulNBits). */
export function compareWeights(pair: DiffPair, original: Float32Array, dequantized: Float32Array): DiffEntry {
  let signal = 0;
  let noise = 0;
  let maxAbsError = 0;
  const transposed = pair.quantized.transposed && pair.original.dims.length === 2;
  const [K, N] = pair.original.dims;
  for (let i = 0; i < original.length; i++) {
    const w = original[i];
    const hat = transposed ? dequantized[(i % N) * K + Math.floor(i / N)] : dequantized[i];
    const e = w - hat;
    signal += w * w;
    noise += e * e;
    if (Math.abs(e) > maxAbsError) maxAbsError = Math.abs(e);
  }
  const exact = noise === 0;
  return {
    name: pair.original.name,
    quantizedName: pair.quantized.name,
    layer: pair.original.layer,
    matchedBy: pair.matchedBy,
    format: pair.quantized.format,
    sqnrDb: exact ? Infinity : 10 * Math.log10(signal / noise),
    exact,
    maxAbsError,
  };
}
