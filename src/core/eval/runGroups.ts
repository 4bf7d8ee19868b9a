/**
 * How the run stage bounds memory: configurations run in groups, each group's quantized weights computed once
 * and kept while its configurations run over every batch, then let go. A group holds consecutive
 * configurations whose distinct quantized weights fit in the budget (one configuration alone when it needs
 * more), so memory stays at the budget whatever the number of configurations.
 */
import type { Configuration } from './configurations';

/** Key of a weight under a scheme. */
export const weightKey = (weight: string, scheme: string): string => `${weight}\u0000${scheme}`;

/** Splits configurations (in order) into groups whose distinct quantized weights take at most `budgetBytes`. */
export function runGroups(
  configurations: readonly Configuration[],
  bytesOf: (weight: string) => number,
  budgetBytes: number,
): Configuration[][] {
  const groups: Configuration[][] = [];
  let group: Configuration[] = [];
  let keys = new Set<string>();
  let bytes = 0;
  for (const c of configurations) {
    const added = [...c.quantized].filter(([w, s]) => !keys.has(weightKey(w, s)));
    const more = added.reduce((sum, [w]) => sum + bytesOf(w), 0);
    if (group.length > 0 && bytes + more > budgetBytes) {
      groups.push(group);
      group = [];
      keys = new Set();
      bytes = 0;
    }
    for (const [w, s] of c.quantized) {
      const key = weightKey(w, s);
      if (!keys.has(key)) {
        keys.add(key);
        bytes += bytesOf(w);
      }
    }
    group.push(c);
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
