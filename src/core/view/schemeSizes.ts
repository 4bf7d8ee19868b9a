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

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Bytes a weight takes as stored (packed sub-byte types round up). */
function storedBytes(w: WeightInfo): number {
  return Math.ceil((product(w.shape) * dtypeBits(w.dtype)) / 8);
}

/** Model weight bytes if every quantizable weight were stored under each scheme (the others as they are). */
export function modelSizes(
  plan: readonly WeightInfo[],
  schemes: readonly string[],
): { weightBytes: number; sizes: SchemeSize[] } {
  const weightBytes = plan.reduce((sum, w) => sum + storedBytes(w), 0);
  const sizes = schemes.map((id) => {
    const scheme = parseScheme(id);
    let bytes = 0;
    for (const w of plan)
      bytes += w.quantizable ? schemeBytes(scheme, product(w.stored?.dims ?? w.shape), w.layout) : storedBytes(w);
    return { scheme: id, bytes };
  });
  return { weightBytes, sizes };
}
