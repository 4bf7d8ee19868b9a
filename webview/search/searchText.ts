/**
 * Texts of the plan search view that depend on how far the search got (pure: no DOM): the primary button's label
 * and, for a plan measured on part of the data, why its per-slice table has no numbers.
 */
import type { FindPlanReport } from '../../src/core/search/planReport';

/** Whether the chosen (best so far) plan was read on fewer samples than the whole set. */
const partial = (r: FindPlanReport): boolean => !!r.chosen && r.chosen.samples < r.runs.samples;

/**
 * The primary button: "Export and verify the chosen plan"; for a cancelled search whose best plan so far was
 * measured on part of the data, "Export the best plan so far (measured on N of M samples)".
 */
export function exportChosenLabel(r: FindPlanReport): string {
  if (!r.cancelled) return 'Export and verify the chosen plan';
  if (r.chosen && partial(r))
    return `Export the best plan so far (measured on ${r.chosen.samples} of ${r.runs.samples} samples)`;
  return 'Export and verify the best plan so far';
}

/**
 * Why the chosen plan's per-slice table is empty (it has no full-data `slices`), in one line; undefined when there
 * is a table or no plan.
 */
export function noSlicesText(r: FindPlanReport): string | undefined {
  const p = r.chosen;
  if (!p || p.slices?.length) return undefined;
  if (r.cancelled)
    return `Measured on ${p.samples} samples only: the search was cancelled before it was read on all of them.`;
  return `Measured on ${p.samples} of ${r.runs.samples} samples only: per-slice figures are read on all of them.`;
}
