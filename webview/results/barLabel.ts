/** Labels of the layer sensitivity bars, on one line however long the slice name (pure: no DOM). */
import { effectText, middleEllipsis } from '../../src/core/eval/describe';
import type { EvalResults } from '../../src/core/eval/results';
import type { Effect } from '../../src/core/eval/verdict';

/** A bar's value label on one line: the effect and its worst slice, a long slice name cut in the middle; `title` in full. */
export function barLabel(
  task: EvalResults['task'],
  effect: Effect,
  slice: string,
  note = '',
): { text: string; title: string } {
  const full = `${effectText(task, effect)} · ${slice}${note}`;
  return { text: `${effectText(task, effect)} · ${middleEllipsis(slice)}`, title: full };
}
