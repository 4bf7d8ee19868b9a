/** Messages between the extension and the evaluation results view. */
import type { EvalResults } from './core/eval/results';

/** Extension -> view: the results to show. */
export type ResultsToView = { type: 'results'; results: EvalResults; resultsFile: string };

/** View -> extension: ready for results; open the inspector on a layer; what was drawn (tests). */
export type ResultsFromView =
  { type: 'ready' } | { type: 'reveal'; weight: string; scheme: string } | { type: 'rendered'; report: ResultsRender };

/** What the view drew: table rows and columns, cells over budget, sweep series (and whether pixels were painted), sensitivity bars. */
export interface ResultsRender {
  rows: number;
  columns: number;
  badCells: number;
  sweepSeries: number;
  sweepPainted: boolean;
  bars: number;
}
