/** Evaluation results as the inspector's layer table shows them: rank, effect and flag per weight. */
import type { EvalResults } from '../core/eval/results';
import { effectText } from '../core/eval/describe';
import { primaryEffect } from '../core/eval/verdict';
import type { RowSensitivity } from '../protocol';

/** Per weight name: its rank, its effect under the most aggressive scheme alone (worst slice), its flag. */
export function rowSensitivity(results: EvalResults): Map<string, RowSensitivity> {
  const rows = new Map<string, RowSensitivity>();
  const s = results.sensitivity;
  if (!s || s.schemes.length === 0) return rows;
  const scheme = s.rankScheme;
  for (const layer of s.layers) {
    const measured = layer.oneAtATime[scheme];
    if (!measured) continue;
    const effect = primaryEffect(results.task, measured.worst.effect);
    const text = effectText(results.task, measured.worst.effect);
    const flag = results.flags.find((f) => f.weight === layer.weight)?.message;
    rows.set(layer.weight, {
      rank: layer.rank,
      effect,
      text: `${text} ${measured.worst.slice} (${scheme})`,
      scheme,
      ...(flag ? { flag } : {}),
    });
  }
  return rows;
}
