/**
 * Test-only messages between the extension and its webviews, and what they carry. Only test builds
 * (`__QUANTLENS_TEST_HOOKS__`, see scripts/build.mjs) send or handle them; the production bundles hold none.
 */
import type { ModelState } from './protocol';

/** What the inspector read back from its own DOM after rendering. */
export interface RenderReport {
  status: ModelState['status'];
  /** Text of every element marked `data-field`, by field name. */
  fields: Record<string, string>;
  /** Cell texts of every table marked `data-table`, by table name (rows of cells, header excluded). */
  tables: Record<string, string[][]>;
  /** Every canvas marked `data-chart`: size in CSS pixels, drawn cells and non-background pixels. */
  charts?: Record<string, { width: number; height: number; cells?: string; painted: number }>;
  /** What the inspector currently shows: tab, selected weight and scheme. */
  view?: { tab: string; weight?: string; scheme?: string };
  /** The last frame-time probe (scrolling the layer table), if one ran. */
  probe?: ScrollProbe;
}

/** Frame times while the layer table scrolled through `rows` rows. */
export interface ScrollProbe {
  frames: number;
  maxMs: number;
  p95Ms: number;
  meanMs: number;
  rows: number;
  scriptMaxMs: number;
  scriptP95Ms: number;
}

/** What the results view drew: table rows and columns, cells over budget, sweep series (and whether pixels were painted), sensitivity bars. */
export interface ResultsRender {
  rows: number;
  columns: number;
  badCells: number;
  /** Cells marked "within noise" (a CI including the budget, or a slice too small to decide). */
  noiseCells?: number;
  sweepSeries: number;
  sweepPainted: boolean;
  bars: number;
  /** Cost table rows and accuracy-vs-cost points (0 when nothing was measured). */
  costRows: number;
  costPoints: number;
  /** The export's agreement with its simulation (`identical`, `rounding`, `differs`, `none`); absent without one. */
  exportAgreement?: string;
  /** The calibration line, each variant's activation text (by id) and the activation table's rows (issue 20). */
  calibration?: string;
  variantActivations?: Record<string, string>;
  activationRows?: string[][];
}

/** Extension -> inspector (test builds): measure frame times while scrolling the layer table through `rows` rows. */
export type InspectorTestToWebview = { type: 'probe/scroll'; rows: number };

/** Inspector -> extension (test builds): the webview finished rendering a state. */
export type InspectorTestFromWebview = { type: 'rendered'; report: RenderReport };

/** Results view -> extension (test builds): what the view drew. */
export type ResultsTestFromView = { type: 'rendered'; report: ResultsRender };
