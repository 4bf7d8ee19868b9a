/**
 * The inspector's state: one object that every controller reads and changes (the controllers hold no
 * state of their own), and the part of it the webview persists.
 */
import type uPlot from 'uplot';
import type {
  AnalysisStatus,
  InspectorSettings,
  LayerDetail,
  ModelHeatmap,
  ModelState,
  TableQuery,
  ViewState,
} from '../../src/protocol';
import type { ScrollProbe } from '../../src/testHooks';
import type { HeatmapCanvas } from '../heatmapCanvas';
import type { OpenSections } from './overviewView';
import { RowCache } from './tableView';

/** A tab of the inspector. */
export type Tab = ViewState['tab'];

/** What the webview keeps across hiding and reloading (getState/setState). */
export interface Persisted {
  open: OpenSections;
  scrollY: number;
  tab: Tab;
  query: TableQuery;
  /** The selected weight (by name) and the scheme chosen last. */
  weight?: string;
  scheme?: string;
  /** Log-scale histogram counts. */
  log: boolean;
  tableScroll: number;
}

/** The layer table: rows fetched for the current query, the selection, the requests in flight. */
export interface TableState {
  cache: RowCache;
  /** The selected row: its graph index and its position among the current query's rows. */
  selectedIndex?: number;
  selectedPos?: number;
  /** Weights already looked up under the current query (each only once). */
  searching: Set<string>;
  pagesInFlight: number;
  /** The scrolling grid element, once rendered. */
  viewport: HTMLElement | null;
  /** The scheme the shown sensitivity ranks (from the rows; '' until a measured row arrived). */
  measuredScheme: string;
}

/** The layer detail shown (or being read). */
export interface DetailState {
  shown?: LayerDetail;
  loading: boolean;
  error?: string;
  /** Id of the latest request: replies to older ones are dropped. */
  request: number;
}

/** The charts mounted outside lit's templates, and what they show. */
export interface Charts {
  histogram?: uPlot;
  channels?: uPlot;
  /** The layer's input activation: histogram with its grid, and per-channel absmax. */
  activation?: uPlot;
  activationChannels?: uPlot;
  heatmap?: HeatmapCanvas;
  model?: HeatmapCanvas;
  shownDetail?: LayerDetail;
  shownLog?: boolean;
}

/** Everything the inspector shows and remembers. */
export interface InspectorState {
  persisted: Persisted;
  model?: ModelState;
  status?: AnalysisStatus;
  settings: InspectorSettings;
  pickerOpen: boolean;
  /** A message shown for a few seconds above the table (e.g. a refused scheme). */
  notice?: string;
  table: TableState;
  detail: DetailState;
  modelHeatmap?: ModelHeatmap;
  /** When the model heatmap was last requested (ms since epoch), to throttle reloads while analysing. */
  lastHeatmapLoad: number;
  charts: Charts;
  /** Test builds only: the scroll probe's result and the script time of each row render while it runs. */
  test: { probe?: ScrollProbe; rowTimes?: number[] };
}

/** The table query of a model opened for the first time. */
export const DEFAULT_QUERY: TableQuery = { sort: 'index', descending: false, text: '', op: '', quantizableOnly: false };

/** The state of a new webview, from what it persisted before (if anything). */
export function createState(saved: Partial<Persisted> | undefined): InspectorState {
  return {
    persisted: { open: {}, scrollY: 0, tab: 'overview', query: DEFAULT_QUERY, log: false, tableScroll: 0, ...saved },
    settings: { histogramBins: 128, colormap: 'viridis' },
    pickerOpen: false,
    table: { cache: new RowCache(), searching: new Set(), pagesInFlight: 0, viewport: null, measuredScheme: '' },
    detail: { loading: false, request: 0 },
    lastHeatmapLoad: 0,
    charts: {},
    test: {},
  };
}
