/** Plan keys of a search: which weights a plan quantizes, a stable key per assignment, a layer's name per weight. */
import { KEEP_FLOAT } from '../../core/eval/plan';
import type { CheckedEval } from '../eval/evalCheck';

/** Weights fed quantized (fp32 ones left out). */
export const quantizedOf = (a: ReadonlyMap<string, string>): Map<string, string> =>
  new Map([...a].filter(([, s]) => s !== KEEP_FLOAT));

export const planKey = (a: ReadonlyMap<string, string>): string =>
  [...quantizedOf(a)]
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([w, s]) => `${w}=${s}`)
    .join('\u0000');

/** The plan key of each weight: its first layer, or its own name when another weight shares that layer. */
export function planKeys(checked: CheckedEval): Map<string, string> {
  const count = new Map<string, number>();
  for (const w of checked.model.weights) count.set(w.layer, (count.get(w.layer) ?? 0) + 1);
  return new Map(checked.model.weights.map((w) => [w.name, count.get(w.layer)! > 1 ? w.name : w.layer]));
}
