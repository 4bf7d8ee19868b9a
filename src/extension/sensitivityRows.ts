/** Evaluation results as the inspector's layer table shows them: rank, effect and flag per weight. */
import type { EvalResults } from '../core/eval/results';
import { primaryEffect } from '../core/eval/verdict';
import type { RowSensitivity } from '../protocol';

const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;

/** Per weight name: its rank, its effect under the most aggressive scheme alone (worst slice), its flag. */
export function rowSensitivity(results: EvalResults): Map<string, RowSensitivity> {
  const rows = new Map<string, RowSensitivity>();
  const s = results.sensitivity;
  if (!s || s.schemes.length === 0) return rows;
  const scheme = s.leaveOneOutScheme ?? s.schemes[s.schemes.length - 1];
  for (const layer of s.layers) {
    const measured = layer.oneAtATime[scheme];
    if (!measured) continue;
    const effect = primaryEffect(results.task, measured.worst.effect);
    const e = measured.worst.effect;
    const text = results.task === 'classification' ? `${signed(-(e.accuracyDrop ?? 0))} pp` : results.task === 'language-model' ? `${signed(e.perplexityIncrease ?? 0)}% ppl`
      : results.task === 'regression' ? `${signed(e.mseIncrease ?? 0)}% mse` : `KL ${(e.kl ?? 0).toPrecision(2)}`;
    const flag = results.flags.find((f) => f.weight === layer.weight)?.message;
    rows.set(layer.weight, { rank: layer.rank, effect, text: `${text} ${measured.worst.slice} (${scheme})`, ...(flag ? { flag } : {}) });
  }
  return rows;
}
