/** Typed messages between the extension and the inspector webview (one union per direction). */
import type { ModelErrorInfo } from './core/onnx/errors';
import type { CallerMessage, ServerMessage } from './core/rpc/messages';
import type { ModelOverview } from './core/onnx/overview';
import type { StoredQuantization } from './core/quant/storedQuant';
import type { SchemeMetrics, TensorStats } from './core/stats/analyze';
import type { QuantGrid } from './core/stats/layerDetail';

/** What the inspector shows for one model file. */
export type ModelState =
  /** The model is being read. */
  | { status: 'loading'; fileName: string }
  /** The model was read; `loadMs` is the wall time of reading and indexing it. */
  | { status: 'ready'; fileName: string; overview: ModelOverview; loadMs: number }
  /** The model could not be read; `fileSize` is null when the file itself could not be stat'ed. */
  | { status: 'error'; fileName: string; fileSize: number | null; error: ModelErrorInfo };

/** Model size if every quantizable weight were stored under one scheme. */
export interface SchemeSize {
  scheme: string;
  /** Bytes of all weights: quantizable ones at the scheme (values, float32 scales, zero points), the rest as stored. */
  bytes: number;
}

/** The analysis of the model shown: which schemes, how far, what it would weigh. */
export interface AnalysisStatus {
  schemes: string[];
  /** Weights with values analysed so far, of `total`. */
  done: number;
  total: number;
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
}

/** Layer table columns that can be sorted (`sqnr:<scheme id>` sorts by that scheme's SQNR). */
export type SortKey =
  | 'index'
  | 'layer'
  | 'name'
  | 'params'
  | 'dtype'
  | 'absmax'
  | 'std'
  | 'kurtosis'
  | 'outlierRatio'
  | 'sensitivity'
  | `sqnr:${string}`;

/** Which rows of the layer table, in which order. */
export interface TableQuery {
  sort: SortKey;
  descending: boolean;
  /** Case-insensitive text found in the layer, op or tensor name. */
  text: string;
  /** Only weights consumed by this op type ('' for all). */
  op: string;
  quantizableOnly: boolean;
}

/** One row of the layer table: one weight tensor. */
export interface LayerRow {
  /** Position in graph order (the key of every per-layer request). */
  index: number;
  name: string;
  /** First consuming node and the op types of all consumers. */
  layer: string;
  op: string;
  shape: number[];
  params: number;
  dtype: string;
  role: string;
  quantizable: boolean;
  /** Readable stored quantization, for already-quantized weights. */
  stored?: string;
  /** Why the weight has no numbers. */
  problem?: string;
  /** Undefined until analysed. */
  stats?: Pick<TensorStats, 'absmax' | 'std' | 'kurtosis' | 'outlierRatio'>;
  /** SQNR (dB) per scheme of AnalysisStatus.schemes; null when not (yet) analysed or not quantizable. */
  sqnr: (number | null)[];
  /** Measured by the latest slice evaluation of this model, when there is one. */
  sensitivity?: RowSensitivity;
}

/** A layer's measured sensitivity: rank, effect (accuracy drop pp, perplexity %, ...) and the flag, if flagged. */
export interface RowSensitivity {
  rank: number;
  /** The ranking's effect (larger is more sensitive). */
  effect: number;
  /** "-1.5 pp on digit=2 (int3-block32 alone)". */
  text: string;
  /** The diagnostic's message when the layer is flagged. */
  flag?: string;
}

/** A page of the layer table. */
export interface TablePage {
  /** Rows matching the query. */
  total: number;
  offset: number;
  rows: LayerRow[];
  schemes: string[];
  /** Position of the weight named in the request's `find` among the matching rows (-1: not among them). */
  found?: number;
}

/** Error metrics of one scheme on one weight (without the heatmap grid, which comes as tiles). */
export type DetailMetrics = Pick<
  SchemeMetrics,
  'sqnrDb' | 'mse' | 'maxAbsError' | 'cosine' | 'clippedFraction' | 'zeroedFraction'
>;

/** Everything the layer detail draws, except heatmap cells (requested as tiles). */
export interface LayerDetail {
  row: LayerRow;
  scheme: string;
  stats: TensorStats;
  /** Finite values in equal bins over [min, max]. */
  histogram: { min: number; max: number; counts: Uint32Array };
  metrics?: DetailMetrics;
  /** The scheme's levels over the histogram (median group); null for weights that are not quantizable. */
  grid: QuantGrid | null;
  /** Values outside the grid's clipping range, counted from the histogram bins fully outside it. */
  beyondGrid: number;
  /** Heatmap size: channels x blocks of this scheme, and the SQNR range over all cells. */
  heatmap: { channels: number; blocks: number; blockSize: number; min: number; max: number };
  /** Per-channel SQNR (dB), ascending, with each value's channel. */
  channelSqnr: Float64Array;
  channelOrder: Int32Array;
  /** What a channel is for this weight ('output channel', 'column N', 'row'). */
  channelLabel: string;
  stored?: Omit<StoredQuantization, 'layout'>;
}

/** A rectangle of heatmap cells, downsampled by taking the worst SQNR (and largest absmax) per shown cell. */
export interface HeatmapTile {
  channel0: number;
  block0: number;
  /** Cells shown (rows x cols) and how many heatmap cells each one covers along each axis. */
  rows: number;
  cols: number;
  channelStep: number;
  blockStep: number;
  /** Row-major rows x cols. */
  sqnr: Float32Array;
  absmax: Float32Array;
}

/** The model heatmap: quantizable weights (graph order) x schemes. */
export interface ModelHeatmap {
  rows: { index: number; name: string; label: string }[];
  schemes: string[];
  /** Row-major rows x schemes; NaN where not yet analysed. */
  sqnr: Float32Array;
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

/** What the webview read back from its own DOM after rendering: used by tests and the log. */
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
  probe?: {
    frames: number;
    maxMs: number;
    p95Ms: number;
    meanMs: number;
    rows: number;
    scriptMaxMs: number;
    scriptP95Ms: number;
  };
}

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
  | { type: 'settings/changed'; settings: InspectorSettings }
  /** Measure frame times while scrolling the layer table through `rows` rows (tests, benchmarks). */
  | { type: 'probe/scroll'; rows: number };

/** Messages from the webview to the extension. */
export type FromWebview =
  /** A request (answered with a `response` carrying the same id), or the cancel of one. */
  | CallerMessage<Requests>
  /** The webview finished rendering a state. */
  | { type: 'rendered'; report: RenderReport }
  /** A message for the extension's log (e.g. an error inside the webview). */
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };
