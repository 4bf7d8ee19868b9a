/** Typed messages between the extension and the inspector webview (one union per direction). */
import type { ModelErrorInfo } from './core/onnx/errors';
import type { CallerMessage, ServerMessage } from './core/rpc/messages';
import type { HeatmapTile } from './core/view/heatmapTiles';
import type { LayerDetail } from './core/view/layerDetailView';
import type { TablePage, TableQuery } from './core/view/layerTableView';
import type { ModelHeatmap } from './core/view/modelHeatmap';
import type { DisplayOverview, OverviewPart } from './core/view/overviewDisplay';
import type { SchemeSize } from './core/view/schemeSizes';

// The inspector's view model lives in core (src/core/view); its types are what these messages carry.
export type { HeatmapTile } from './core/view/heatmapTiles';
export type { LayerDetail } from './core/view/layerDetailView';
export type { ActivationDetail, RowActivation } from './core/view/activationDetail';
export type { LayerRow, RowSensitivity, SortKey, TablePage, TableQuery } from './core/view/layerTableView';
export type { ModelHeatmap } from './core/view/modelHeatmap';
export type { SchemeSize } from './core/view/schemeSizes';

/** What the inspector shows for one model file. */
export type ModelState =
  /** The model is being read. */
  | { status: 'loading'; fileName: string }
  /** The model was read; `loadMs` is the wall time of reading and indexing it (the webview gets it bounded). */
  | { status: 'ready'; fileName: string; overview: DisplayOverview; loadMs: number }
  /** The model could not be read; `fileSize` is null when the file itself could not be stat'ed. */
  | { status: 'error'; fileName: string; fileSize: number | null; error: ModelErrorInfo };

/** The analysis of the model shown: which schemes, how far, what it would weigh. */
export interface AnalysisStatus {
  schemes: string[];
  /** Tensors with values read and analysed so far, of `total` (biases and norms included). */
  done: number;
  total: number;
  /** Of `total`, the quantizable weights: those analysed under the schemes (the "N weights analysed"). */
  quantizable?: number;
  state: 'idle' | 'running' | 'done' | 'cancelled' | 'error';
  /** Set when state is 'error'. */
  error?: string;
  /** Wall time of the last finished run (0 when everything came from the cache). */
  ms?: number;
  /** Bytes of all weights as stored, and per scheme if quantizable weights were stored at it. */
  weightBytes: number;
  sizes: SchemeSize[];
  /** Op types of the weights' consumers, for the table filter. */
  ops: string[];
  /** Which evaluation the rows' sensitivity comes from (changes when a new one arrives). */
  sensitivity?: string;
  /** The activation bits that evaluation quantized ("a8", "a8/a16"), when it quantized activations. */
  activations?: string;
}

/** What the inspector remembers per model across reopening (kept by the extension). */
export interface ViewState {
  tab: 'overview' | 'layers' | 'heatmap';
  /** Selected weight (by name: indices change when the model changes) and scheme. */
  weight?: string;
  scheme?: string;
  query?: TableQuery;
}

/** Requests the webview may send, each with its parameters and result. */
export interface Requests {
  /** The current state of the model shown in this editor. */
  'model/get': { params: Record<string, never>; result: ModelState };
  /** Ask the extension to re-read the model from disk. */
  'model/reload': { params: Record<string, never>; result: ModelState };
  /** Open the full text of a part the overview shows cut, in a read-only editor. */
  'overview/showAll': { params: { part: OverviewPart }; result: null };
  /** Open the QuantLens log. */
  'log/show': { params: Record<string, never>; result: null };
  /** The analysis status (starts the analysis if it has not run). */
  'analysis/status': { params: Record<string, never>; result: AnalysisStatus };
  /** Compare these schemes (ids); results already computed are reused. */
  'analysis/setSchemes': { params: { schemes: string[] }; result: AnalysisStatus };
  /** Stop the running analysis (results so far stay). */
  'analysis/cancel': { params: Record<string, never>; result: AnalysisStatus };
  /** Run the analysis again for the missing results (after a cancel or an error). */
  'analysis/resume': { params: Record<string, never>; result: AnalysisStatus };
  /** Rows [offset, offset + limit) of the layer table under a query. */
  'table/page': { params: { query: TableQuery; offset: number; limit: number; find?: string }; result: TablePage };
  /** Save the rows matching a query as CSV or JSON (save dialog); the path written, or null if cancelled. */
  'table/export': { params: { query: TableQuery; format: 'csv' | 'json' }; result: string | null };
  /** Detail of weight `index` under `scheme` (reads the tensor once in a worker). */
  'layer/detail': { params: { index: number; scheme: string; bins: number }; result: LayerDetail };
  /** Heatmap cells of weight `index` under `scheme`, at most maxRows x maxCols shown cells. */
  'heatmap/tile': {
    params: {
      index: number;
      scheme: string;
      channel0: number;
      channels: number;
      block0: number;
      blocks: number;
      maxRows: number;
      maxCols: number;
    };
    result: HeatmapTile;
  };
  /** SQNR of every quantizable weight under every scheme. */
  'model/heatmap': { params: Record<string, never>; result: ModelHeatmap };
  /** Save a chart as PNG (save dialog); `dataUrl` is the canvas content. The path written, or null. */
  'chart/export': { params: { name: string; dataUrl: string }; result: string | null };
  /** Remember the view for the next time this model is opened. */
  'view/save': { params: ViewState; result: null };
  /** The view remembered for this model. */
  'view/get': { params: Record<string, never>; result: ViewState | null };
  /** The inspector settings (histogram bins, colormap). */
  'settings/get': { params: Record<string, never>; result: InspectorSettings };
}

/** Inspector settings (quantlens.inspector.*). */
export interface InspectorSettings {
  histogramBins: number;
  colormap: 'viridis' | 'cividis' | 'magma' | 'inferno';
}

/** Name of a request method. */
export type RequestMethod = keyof Requests;

/** Messages from the extension to the webview. */
export type ToWebview =
  /** The reply to request `id` (its value, or an error in the one error shape), or its progress. */
  | ServerMessage
  /** The model's state changed (loaded, failed, changed on disk). */
  | { type: 'model/state'; state: ModelState }
  /** The analysis made progress, finished, failed or changed schemes. */
  | { type: 'analysis/status'; status: AnalysisStatus }
  /** Show this weight's detail (e.g. from a diagnostic or a command), under a scheme if given. */
  | { type: 'ui/reveal'; tab: ViewState['tab']; weight?: string; scheme?: string }
  /** The settings changed. */
  | { type: 'settings/changed'; settings: InspectorSettings };

/** Messages from the webview to the extension. */
export type FromWebview =
  /** A request (answered with a `response` carrying the same id), or the cancel of one. */
  | CallerMessage<Requests>
  /** A message for the extension's log (e.g. an error inside the webview). */
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };
