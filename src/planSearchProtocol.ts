/** Messages between the extension and the plan search view (src/extension/planSearchView.ts, webview/search/). */
import type { Budget } from './core/eval/spec';
import type { PlanSearchFile } from './core/search/planSearchFile';

/** Extension -> view: the search to show (`busy`: what runs now, e.g. the export); test builds: click a point. */
export type SearchToView =
  | { type: 'search'; search: PlanSearchFile; searchFile: string; budget?: Budget; busy?: string }
  | { type: 'test/pick'; plan: number; action: PlanAction };

/** What a picked plan (a clicked point, a front row's button) asks for. */
export type PlanAction = 'write' | 'export';

/** View -> extension: ready; a plan of `report.plans` to write or export; search again. */
export type SearchFromView =
  | { type: 'ready' }
  | { type: 'plan'; plan: number; action: PlanAction }
  | { type: 'findPlan' }
  | { type: 'openResults' };

/** What the view drew (test builds). */
export interface SearchRender {
  /** Points on the chart (every measured plan) and those on the front. */
  points: number;
  frontPoints: number;
  chosen: boolean;
  cancelled: boolean;
  /** Rows of the chosen plan's per-slice table and whether it has the export's column. */
  sliceRows: number;
  exportedColumn: boolean;
  /** Heatmap rows (layers) x columns (slices), and steps listed. */
  heatmap: [number, number];
  steps: number;
  /** After a test pick: what the click did (test builds). */
  picked?: string;
}

/** View -> extension (test builds): what it drew. */
export type SearchTestFromView = { type: 'rendered'; report: SearchRender };
