/** The results view's state: one object the sections read (and the sweep chart, which must be destroyed before a redraw). */
import type uPlot from 'uplot';
import type { EvalResults } from '../../src/core/eval/results';

/** Everything the results view shows. */
export interface ResultsState {
  results?: EvalResults;
  /** The results file, relative to the workspace. */
  resultsFile?: string;
  chart?: uPlot;
  /** Slices the user hid in the sweep (kept across redraws). */
  sweepHidden?: Set<string>;
  /** Whether the sweep's y axis is logarithmic. */
  sweepLog?: boolean;
}

/** What each section drew (read by the test builds' report). */
export interface DrawnCounts {
  rows: number;
  columns: number;
  badCells: number;
  noiseCells: number;
  sweepSeries: number;
  bars: number;
  /** Cost table rows and accuracy-vs-cost points (0 when nothing was measured). */
  costRows: number;
  costPoints: number;
  /** The export's agreement with its simulation (`identical`, `rounding`, `differs`, `none`); absent without one. */
  exportAgreement?: string;
  /** The activation parts' texts (webview/results/activations.ts). */
  calibration: string;
  variantActivations: Record<string, string>;
  activationRows: string[][];
}
