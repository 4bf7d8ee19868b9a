/** What a model's weights weigh as stored, and if every quantizable weight were stored under a scheme. */
import { dtypeBits } from '../onnx/dtypes';
import { parseScheme } from '../quant/schemes';
import { schemeBytes } from '../stats/layerDetail';
import type { WeightInfo } from './weightInfo';

/** Model size if every quantizable weight were stored under one scheme. */
export interface SchemeSize {
  scheme: string;
  /** Bytes of all weights: quantizable ones at the scheme (values, float32 scales, zero points), the rest as stored. */
  bytes: number;
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes a weight takes as stored (packed sub-byte types round up). */
function storedBytes(w: WeightInfo): number {
  return Math.ceil((product(w.shape) * dtypeBits(w.dtype)) / 8);
}

/** Model weight bytes if every quantizable weight were stored under each scheme (the others as they are). */
export function modelSizes(
  plan: readonly WeightInfo[],
  schemes: readonly string[],
): { weightBytes: number; sizes: SchemeSize[] } {
  // One pass over the weights, every scheme per weight (a model may have 100k weights).
  const parsed = schemes.map((id) => parseScheme(id));
  const bytes = new Array<number>(schemes.length).fill(0);
  let weightBytes = 0;
  for (const w of plan) {
    const stored = storedBytes(w);
    weightBytes += stored;
    const elements = w.quantizable ? product(w.stored?.dims ?? w.shape) : 0;
    for (let k = 0; k < parsed.length; k++)
      bytes[k] += w.quantizable ? schemeBytes(parsed[k], elements, w.layout) : stored;
  }
  const sizes = schemes.map((scheme, k) => ({ scheme, bytes: bytes[k] }));
  return { weightBytes, sizes };
}

/** modelSizes of a long plan in slices of `slice` weights, letting the caller's event loop run between (`yieldTurn`). */
export async function modelSizesInSlices(
  plan: readonly WeightInfo[],
  schemes: readonly string[],
  yieldTurn: () => Promise<void>,
  slice = 5000,
): Promise<{ weightBytes: number; sizes: SchemeSize[] }> {
  const total = { weightBytes: 0, sizes: schemes.map((scheme) => ({ scheme, bytes: 0 })) };
  for (let start = 0; start < plan.length; start += slice) {
    if (start > 0) await yieldTurn();
    const part = modelSizes(plan.slice(start, start + slice), schemes);
    total.weightBytes += part.weightBytes;
    part.sizes.forEach((s, k) => (total.sizes[k].bytes += s.bytes));
  }
  return total;
}
