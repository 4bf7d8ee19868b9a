/**
 * Inspector webview entry: overview, layer table, layer detail and model heatmap. Asks the extension for
 * what it draws (pages, details, tiles), keeps its view in getState/setState and in the extension (per
 * model), and reports what it rendered.
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import { html, nothing, render } from 'lit';
import { cssom } from './cssom';
import type uPlot from 'uplot';
import { DEFAULT_SCHEMES } from '../src/core/quant/schemes';
import { downsampleTile } from '../src/core/view/heatmapTiles';
import type {
  AnalysisStatus,
  InspectorSettings,
  LayerDetail,
  LayerRow,
  ModelHeatmap,
  ModelState,
  RenderReport,
  SortKey,
  TableQuery,
  ToWebview,
  ViewState,
} from '../src/protocol';
import { channelLineChart, histogramChart } from './charts';
import { colormap, SQNR_DOMAIN } from './colormap';
import { HeatmapCanvas, type HeatmapSource } from './heatmapCanvas';
import { gridTemplate, PAGE_SIZE, renderRows, RowCache, ROW_HEIGHT, tableHeader } from './layerTable';
import { analysisBar, detailView, sizesView } from './panels';
import { decodeNumbers } from '../src/wire';
import { handleResponse, request, vscode } from './rpc';
import { errorView, loadingView, overviewView, type OpenSections, type ViewActions } from './views';

type Tab = ViewState['tab'];

interface Persisted {
  open: OpenSections;
  scrollY: number;
  tab: Tab;
  query: TableQuery;
  weight?: string;
  scheme?: string;
  log: boolean;
  tableScroll: number;
}

const DEFAULT_QUERY: TableQuery = { sort: 'index', descending: false, text: '', op: '', quantizableOnly: false };
const app = document.getElementById('app')!;
const persisted: Persisted = {
  open: {},
  scrollY: 0,
  tab: 'overview',
  query: DEFAULT_QUERY,
  log: false,
  tableScroll: 0,
  ...((vscode.getState() as Partial<Persisted> | undefined) ?? {}),
};
const restoredFromWebviewState = vscode.getState() !== undefined;

let model: ModelState | undefined;
let status: AnalysisStatus | undefined;
let settings: InspectorSettings = { histogramBins: 128, colormap: 'viridis' };
let pickerOpen = false;
let cache = new RowCache();
let selectedIndex: number | undefined;
let selectedPos: number | undefined;
let detail: LayerDetail | undefined;
let detailLoading = false;
let detailError: string | undefined;
let modelHeatmap: ModelHeatmap | undefined;
let probe: RenderReport['probe'];
const charts: {
  histogram?: uPlot;
  channels?: uPlot;
  heatmap?: HeatmapCanvas;
  model?: HeatmapCanvas;
  shownDetail?: LayerDetail;
  shownLog?: boolean;
} = {};

function reportError(error: unknown): void {
  vscode.postMessage({ type: 'log', level: 'error', message: error instanceof Error ? error.message : String(error) });
}

let saveTimer: number | undefined;
function save(): void {
  vscode.setState(persisted);
  window.clearTimeout(saveTimer);
  saveTimer = window.setTimeout(() => {
    const view: ViewState = {
      tab: persisted.tab,
      query: persisted.query,
      ...(persisted.weight ? { weight: persisted.weight } : {}),
      ...(persisted.scheme ? { scheme: persisted.scheme } : {}),
    };
    request('view/save', view).catch(reportError);
  }, 300);
}

// ---------------------------------------------------------------- rendering

let frame = 0;
/** Schedules one render in the next animation frame. */
function update(): void {
  if (!frame)
    frame = requestAnimationFrame(() => {
      frame = 0;
      draw();
    });
}

const viewActions: ViewActions = {
  reload: () => void request('model/reload', {}).catch(reportError),
  showLog: () => void request('log/show', {}).catch(reportError),
  toggled: (id, open) => {
    persisted.open[id] = open;
    save();
  },
};

function setTab(tab: Tab): void {
  persisted.tab = tab;
  save();
  if (tab === 'heatmap') void loadModelHeatmap();
  update();
}

function draw(): void {
  if (!model) return;
  if (model.status === 'loading') {
    render(loadingView(model.fileName), app);
  } else if (model.status === 'error') {
    render(errorView(model, viewActions), app);
  } else {
    const tabs: [Tab, string, string][] = [
      ['overview', 'Overview', 'info'],
      ['layers', 'Layers', 'list-flat'],
      ['heatmap', 'Model heatmap', 'symbol-color'],
    ];
    render(
      html`
        ${overviewHeader(model)} ${analysisBar(status, pickerOpen, barActions)}
        <nav class="tabs" role="tablist">
          ${tabs.map(
            ([id, label, icon]) =>
              html`<button
                role="tab"
                class="tab ${persisted.tab === id ? 'active' : ''}"
                aria-selected=${persisted.tab === id}
                data-tab=${id}
                @click=${() => setTab(id)}
              >
                <span class="codicon codicon-${icon}"></span> ${label}
              </button>`,
          )}
        </nav>
        <div class="tab-body" ?hidden=${persisted.tab !== 'overview'}>
          ${overviewView(model.overview, persisted.open, viewActions, sizesView(model.overview, status))}
        </div>
        <div class="tab-body" ?hidden=${persisted.tab !== 'layers'}>${layersTab()}</div>
        <div class="tab-body" ?hidden=${persisted.tab !== 'heatmap'}>${heatmapTab()}</div>
      `,
      app,
    );
    drawRows();
    mountCharts();
  }
  vscode.postMessage({ type: 'rendered', report: readBack() });
}

function overviewHeader(state: Extract<ModelState, { status: 'ready' }>): ReturnType<typeof html> {
  return html`<header class="title">
    <span class="codicon codicon-graph"></span>
    <h1 data-field="fileName">${state.fileName}</h1>
    <span class="muted">read in ${state.loadMs.toFixed(0)} ms</span>
    <vscode-button secondary icon="refresh" @click=${viewActions.reload} title="Re-read the model from disk"
      >Reload</vscode-button
    >
  </header>`;
}

// ---------------------------------------------------------------- analysis bar

const barActions = {
  cancel: () => void request('analysis/cancel', {}).then(setStatus, reportError),
  resume: () => void request('analysis/resume', {}).then(setStatus, reportError),
  removeScheme: (id: string) => status && setSchemes(status.schemes.filter((s) => s !== id)),
  addScheme: (id: string) => status && !status.schemes.includes(id) && setSchemes([...status.schemes, id]),
  resetSchemes: () => setSchemes([...DEFAULT_SCHEMES]),
  togglePicker: () => {
    pickerOpen = !pickerOpen;
    update();
  },
};

function setSchemes(schemes: string[]): void {
  request('analysis/setSchemes', { schemes }).then(setStatus, (e: unknown) => {
    reportError(e);
    void showNotice(e);
  });
}

let notice: string | undefined;
function showNotice(e: unknown): void {
  notice = e instanceof Error ? e.message : String(e);
  update();
  window.setTimeout(() => {
    notice = undefined;
    update();
  }, 6000);
}

let lastHeatmapLoad = 0;
function setStatus(next: AnalysisStatus): void {
  const schemesChanged = !status || status.schemes.join() !== next.schemes.join();
  const progressed =
    !status || status.done !== next.done || status.state !== next.state || status.sensitivity !== next.sensitivity;
  status = next;
  if (schemesChanged) {
    resetTable();
  } else if (progressed) {
    cache.invalidate();
  }
  if (progressed || schemesChanged) {
    // The detail's metrics and heatmap arrive with the weight's results.
    if (selectedIndex !== undefined && (!detail?.metrics || schemesChanged)) loadDetail();
    if (persisted.tab === 'heatmap' && (next.state !== 'running' || Date.now() - lastHeatmapLoad > 500))
      void loadModelHeatmap();
  }
  update();
}

// ---------------------------------------------------------------- layer table

let viewport: HTMLElement | null = null;

function resetTable(): void {
  cache = new RowCache();
  searching = new Set();
  selectedPos = undefined;
}

function setQuery(change: Partial<TableQuery>): void {
  persisted.query = { ...persisted.query, ...change };
  save();
  resetTable();
  if (viewport) viewport.scrollTop = 0;
  update();
}

function sortBy(key: SortKey): void {
  const q = persisted.query;
  // SQNR columns start worst first; the others ascending.
  setQuery(q.sort === key ? { descending: !q.descending } : { sort: key, descending: false });
}

function layersTab(): ReturnType<typeof html> {
  const q = persisted.query;
  const schemes = status?.schemes ?? [];
  return html`
    <div class="table-tools">
      <input
        class="filter"
        type="search"
        placeholder="Filter by layer, op or tensor"
        aria-label="Filter"
        .value=${q.text}
        @input=${(e: Event) => setQuery({ text: (e.target as HTMLInputElement).value })}
      />
      <select aria-label="Op type" @change=${(e: Event) => setQuery({ op: (e.target as HTMLSelectElement).value })}>
        <option value="" ?selected=${q.op === ''}>all ops</option>
        ${(status?.ops ?? []).map((op) => html`<option value=${op} ?selected=${q.op === op}>${op}</option>`)}
      </select>
      <label
        ><input
          type="checkbox"
          ?checked=${q.quantizableOnly}
          @change=${(e: Event) => setQuery({ quantizableOnly: (e.target as HTMLInputElement).checked })}
        />
        quantizable only</label
      >
      <span class="muted" data-field="tableCount">${formatCount(cache.total)} rows</span>
      <span class="spacer"></span>
      <vscode-button secondary icon="desktop-download" @click=${() => exportTable('csv')}>CSV</vscode-button>
      <vscode-button secondary icon="json" @click=${() => exportTable('json')}>JSON</vscode-button>
    </div>
    ${notice ? html`<p class="error-text">${notice}</p>` : nothing}
    <div
      class="table-viewport"
      role="grid"
      tabindex="0"
      aria-label="Layers"
      aria-rowcount=${cache.total}
      @scroll=${onTableScroll}
      @keydown=${onTableKey}
      data-table-virtual="layers"
    >
      ${tableHeader(schemes, q, sortBy)}
      <div class="table-spacer" ${cssom({ height: `${cache.total * ROW_HEIGHT + ROW_HEIGHT}px` })}>
        <div class="table-rows"></div>
      </div>
    </div>
    ${detailView(detail, detailLoading, detailError, schemes, persisted.log, detailActions)}
  `;
}

const formatCount = (n: number): string => n.toLocaleString('en-US');

function visibleRange(): [number, number] {
  const top = viewport?.scrollTop ?? 0;
  const height = viewport?.clientHeight ?? 480;
  const top0 = Math.floor(top / ROW_HEIGHT);
  return [Math.max(0, top0 - 4), top0 + Math.ceil(height / ROW_HEIGHT) + 4];
}

/** Renders the visible rows (called on every scroll, without re-rendering the rest). */
function drawRows(): void {
  const started = performance.now();
  drawVisibleRows();
  probeScript?.push(performance.now() - started);
}

/** Script time of each drawRows() while a scroll probe runs. */
let probeScript: number[] | undefined;

function drawVisibleRows(): void {
  viewport = app.querySelector('.table-viewport');
  const rowsEl = app.querySelector<HTMLElement>('.table-rows');
  if (!viewport || !rowsEl || persisted.tab !== 'layers') return;
  // Columns through a CSS variable set with CSSOM (the CSP forbids style attributes).
  viewport.style.setProperty('--columns', gridTemplate(status?.schemes ?? []));
  const [first, last] = visibleRange();
  rowsEl.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
  renderRows(rowsEl, cache, first, last, selectedIndex, colormap(settings.colormap), selectRow);
  fetchPages(first, last);
}

let pagesInFlight = 0;
/** Weights already looked up under the current query (each only once). */
let searching = new Set<string>();
function fetchPages(first: number, last: number): void {
  // Before the first page the total is unknown: ask for page 0 (once).
  const pages = cache.missingPages(first, cache.loaded ? Math.min(last, cache.total) : 1);
  const target = cache;
  for (const page of pages) {
    if (pagesInFlight > 2) break;
    target.markRequested(page);
    pagesInFlight++;
    request('table/page', { query: persisted.query, offset: page, limit: PAGE_SIZE })
      .then((p) => {
        if (target !== cache) return;
        const totalChanged = cache.total !== p.total;
        cache.fill(p.offset, p.rows, p.total);
        locateSelection();
        const [first, last] = visibleRange();
        if (totalChanged) update();
        else if (p.offset < last && p.offset + p.rows.length > first) drawRows();
      }, reportError)
      .finally(() => {
        pagesInFlight--;
      });
  }
}

/** Finds the remembered weight among the rows of the current query, scrolls to it and selects it. */
function findWeight(name: string): void {
  const target = cache;
  request('table/page', { query: persisted.query, offset: 0, limit: 0, find: name })
    .then((p) => {
      if (target !== cache || p.found === undefined || p.found < 0) return;
      const pos = p.found;
      return request('table/page', { query: persisted.query, offset: pos, limit: 1 }).then((one) => {
        if (target !== cache || !one.rows[0]) return;
        if (viewport) viewport.scrollTop = Math.max(0, (pos - 3) * ROW_HEIGHT);
        selectRow(pos, one.rows[0], false);
      });
    })
    .catch(reportError)
    .finally(() => searching.delete(name));
}

function locateSelection(): void {
  if (selectedIndex === undefined && persisted.weight) {
    let found = false;
    for (const [pos, r] of cache.rows) {
      if (r.name === persisted.weight) {
        selectRow(pos, r, false);
        found = true;
      }
    }
    if (!found && cache.total > 0 && !searching.has(persisted.weight)) {
      searching.add(persisted.weight);
      findWeight(persisted.weight);
    }
  } else if (selectedIndex !== undefined && selectedPos === undefined) {
    for (const [pos, r] of cache.rows) if (r.index === selectedIndex) selectedPos = pos;
  }
}

/** Shows a tab with a weight selected (found anywhere in the table) under a scheme, as commands and heatmap clicks ask. */
function revealWeight(weight: string | undefined, scheme: string | undefined, tab: Tab = 'layers'): void {
  if (scheme) persisted.scheme = scheme;
  if (weight && weight !== detail?.row.name) {
    persisted.weight = weight;
    selectedIndex = undefined;
    selectedPos = undefined;
    locateSelection();
  } else if (scheme && detail) {
    loadDetail();
  }
  setTab(tab);
}

function onTableScroll(): void {
  persisted.tableScroll = viewport?.scrollTop ?? 0;
  drawRows();
}

function selectRow(pos: number, row: LayerRow, user = true): void {
  selectedPos = pos;
  if (selectedIndex === row.index) return;
  selectedIndex = row.index;
  persisted.weight = row.name;
  if (user) save();
  loadDetail();
  update();
}

function onTableKey(e: KeyboardEvent): void {
  const steps: Record<string, number> = {
    ArrowDown: 1,
    ArrowUp: -1,
    PageDown: 20,
    PageUp: -20,
    Home: -Infinity,
    End: Infinity,
  };
  const step = steps[e.key];
  if (step === undefined || cache.total === 0) return;
  e.preventDefault();
  const pos = Math.max(
    0,
    Math.min(
      cache.total - 1,
      (selectedPos ?? -1) + (Number.isFinite(step) ? step : step > 0 ? cache.total : -cache.total),
    ),
  );
  if (viewport) {
    const top = pos * ROW_HEIGHT;
    const header = ROW_HEIGHT + 2;
    if (top < viewport.scrollTop) viewport.scrollTop = top;
    else if (top + ROW_HEIGHT > viewport.scrollTop + viewport.clientHeight - header)
      viewport.scrollTop = top + ROW_HEIGHT - viewport.clientHeight + header;
  }
  const row = cache.rows.get(pos);
  if (row) selectRow(pos, row);
  else {
    selectedPos = pos;
    request('table/page', { query: persisted.query, offset: pos, limit: 1 }).then(
      (p) => p.rows[0] && selectRow(pos, p.rows[0]),
      reportError,
    );
  }
}

function exportTable(format: 'csv' | 'json'): void {
  request('table/export', { query: persisted.query, format }).catch(reportError);
}

// ---------------------------------------------------------------- detail

const detailActions = {
  setScheme: (id: string) => {
    persisted.scheme = id;
    save();
    loadDetail();
  },
  toggleLog: () => {
    persisted.log = !persisted.log;
    save();
    update();
  },
  exportChart: (name: 'histogram' | 'heatmap' | 'channels') => {
    const canvas =
      name === 'heatmap'
        ? charts.heatmap?.canvas
        : (name === 'histogram' ? charts.histogram : charts.channels)?.ctx.canvas;
    if (!canvas) return;
    const base = `${detail?.row.name ?? 'layer'}-${detail?.scheme ?? ''}-${name}`;
    request('chart/export', { name: base, dataUrl: withBackground(canvas).toDataURL('image/png') }).catch(reportError);
  },
  resetZoom: () => charts.heatmap?.update(heatmapSource(detail!), colormap(settings.colormap)),
};

/** A copy of a chart on the editor background (canvases are transparent), for PNG export. */
function withBackground(canvas: HTMLCanvasElement): HTMLCanvasElement {
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = getComputedStyle(document.body).getPropertyValue('--vscode-editor-background').trim() || '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(canvas, 0, 0);
  return out;
}

let detailRequest = 0;
/** The scheme a detail opens with: the one chosen last, else the coarsest integer scheme compared. */
function detailScheme(schemes: string[]): string {
  if (persisted.scheme && schemes.includes(persisted.scheme)) return persisted.scheme;
  const bits = (id: string): number => Number(/^int(\d)/.exec(id)?.[1] ?? 99);
  return [...schemes].sort((a, b) => bits(a) - bits(b))[0];
}

function loadDetail(): void {
  if (selectedIndex === undefined || !status) return;
  const scheme = detailScheme(status.schemes);
  const id = ++detailRequest;
  detailLoading = true;
  request('layer/detail', { index: selectedIndex, scheme, bins: settings.histogramBins })
    .then(
      (d) => {
        if (id !== detailRequest) return;
        detail = d;
        detailError = undefined;
      },
      (e: unknown) => {
        if (id !== detailRequest) return;
        detail = undefined;
        detailError = e instanceof Error ? e.message : String(e);
      },
    )
    .finally(() => {
      if (id !== detailRequest) return;
      detailLoading = false;
      update();
    });
}

function heatmapSource(d: LayerDetail): HeatmapSource {
  const index = d.row.index;
  const { heatmap } = d;
  const lo = Number.isFinite(heatmap.min) ? Math.floor(heatmap.min) : SQNR_DOMAIN[0];
  const hi = Number.isFinite(heatmap.max) ? Math.max(lo + 1, Math.ceil(heatmap.max)) : SQNR_DOMAIN[1];
  return {
    rows: heatmap.channels,
    cols: heatmap.blocks,
    rowLabel: d.channelLabel,
    colLabel:
      heatmap.blocks > 1
        ? `block of ${heatmap.blockSize} values along the reduction axis`
        : `whole ${d.channelLabel} (${heatmap.blockSize} values)`,
    domain: [lo, hi],
    zoomCols: heatmap.blocks > 1,
    fetch: (v, maxRows, maxCols) =>
      request('heatmap/tile', {
        index,
        scheme: d.scheme,
        channel0: v.row0,
        channels: v.rows,
        block0: v.col0,
        blocks: v.cols,
        maxRows,
        maxCols,
      }),
  };
}

/** Creates or refreshes the charts after a render (they live outside lit's templates). */
function mountCharts(): void {
  const map = colormap(settings.colormap);
  if (persisted.tab === 'layers' && detail) {
    const histEl = document.getElementById('chart-histogram');
    const fresh = charts.shownDetail !== detail || charts.shownLog !== persisted.log;
    if (histEl && (fresh || !histEl.firstChild)) {
      charts.histogram = histogramChart(
        histEl,
        { ...detail.histogram, grid: detail.grid, log: persisted.log },
        charts.histogram,
      );
    }
    const lineEl = document.getElementById('chart-channels');
    if (lineEl && (fresh || !lineEl.firstChild))
      charts.channels = channelLineChart(
        lineEl,
        detail.channelSqnr,
        detail.channelOrder,
        detail.channelLabel,
        charts.channels,
      );
    const canvas = document.getElementById('chart-heatmap') as HTMLCanvasElement | null;
    if (canvas && (fresh || charts.heatmap?.canvas !== canvas)) {
      const tip = document.getElementById('heatmap-tip')!;
      const source = heatmapSource(detail);
      if (charts.heatmap?.canvas === canvas)
        charts.heatmap.update(
          source,
          map,
          charts.shownDetail?.row.index === detail.row.index && charts.shownDetail?.scheme === detail.scheme,
        );
      else {
        charts.heatmap = new HeatmapCanvas(canvas, tip, source, map, reportError);
        charts.heatmap.refresh();
      }
      void charts.heatmap.painted.then(() => vscode.postMessage({ type: 'rendered', report: readBack() }));
    }
    charts.shownDetail = detail;
    charts.shownLog = persisted.log;
    void Promise.resolve().then(() => vscode.postMessage({ type: 'rendered', report: readBack() }));
  }
  if (persisted.tab === 'heatmap' && modelHeatmap) mountModelHeatmap(map);
}

// ---------------------------------------------------------------- model heatmap

async function loadModelHeatmap(): Promise<void> {
  lastHeatmapLoad = Date.now();
  try {
    modelHeatmap = await request('model/heatmap', {});
    update();
  } catch (e) {
    reportError(e);
  }
}

function heatmapTab(): ReturnType<typeof html> {
  if (!modelHeatmap) return html`<p class="muted">Loading…</p>`;
  const rows = modelHeatmap.rows.length;
  if (rows === 0) return html`<p class="empty" data-field="modelHeatmapEmpty">No quantizable weights.</p>`;
  const height = Math.min(Math.max(rows * 16, 160), 640) + 50;
  return html`
    <div class="chart-head">
      <h3>
        SQNR by layer and scheme
        <span class="muted small" data-field="modelHeatmapSize"
          >${formatCount(rows)} layers × ${modelHeatmap.schemes.length} schemes</span
        >
      </h3>
      <span class="muted small">click a cell to open that layer under that scheme · wheel: zoom · drag: pan</span>
      <vscode-button
        secondary
        icon="desktop-download"
        @click=${() => charts.model && request('chart/export', { name: 'model-heatmap', dataUrl: withBackground(charts.model.canvas).toDataURL('image/png') }).catch(reportError)}
        >PNG</vscode-button
      >
    </div>
    <div class="heatmap-wrap">
      <canvas
        class="heatmap model"
        data-chart="modelHeatmap"
        id="chart-model"
        ${cssom({ height: `${height}px` })}
        tabindex="0"
        aria-label="SQNR of each layer under each scheme"
      ></canvas>
      <div class="tooltip" id="model-tip" hidden></div>
    </div>
    <p class="muted small">
      Colour scale fixed at ${SQNR_DOMAIN[0]}–${SQNR_DOMAIN[1]} dB (as in the table) so layers and models compare; every
      6 dB is one bit of resolution.
    </p>
  `;
}

function mountModelHeatmap(map: ReturnType<typeof colormap>): void {
  const canvas = document.getElementById('chart-model') as HTMLCanvasElement | null;
  const data = modelHeatmap;
  if (!canvas || !data) return;
  const n = data.schemes.length;
  const source: HeatmapSource = {
    rows: data.rows.length,
    cols: n,
    rowLabel: 'layer (graph order)',
    colLabel: 'scheme',
    rowNames: data.rows.map((r) => r.label),
    colNames: data.schemes,
    domain: SQNR_DOMAIN,
    zoomCols: false,
    fetch: (v, maxRows) =>
      Promise.resolve(
        downsampleTile(
          { channels: data.rows.length, blocks: n, sqnr: data.sqnr },
          { channel0: v.row0, channels: v.rows, block0: 0, blocks: n, maxRows, maxCols: n },
        ),
      ),
    onClick: (row, col) => revealWeight(data.rows[row].name, data.schemes[col]),
  };
  if (charts.model?.canvas === canvas) charts.model.update(source, map, true);
  else {
    charts.model = new HeatmapCanvas(canvas, document.getElementById('model-tip')!, source, map, reportError);
    charts.model.refresh();
  }
  void charts.model.painted.then(() => vscode.postMessage({ type: 'rendered', report: readBack() }));
}

// ---------------------------------------------------------------- read-back and probe

function painted(
  canvas: HTMLCanvasElement,
  box?: { left: number; top: number; width: number; height: number },
): number {
  const ctx = canvas.getContext('2d');
  if (!ctx || canvas.width === 0 || canvas.height === 0) return 0;
  const b = box ?? { left: 0, top: 0, width: canvas.width, height: canvas.height };
  const data = ctx.getImageData(b.left, b.top, Math.max(1, b.width), Math.max(1, b.height)).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 200) n++;
  return n;
}

/** Reads back from the DOM what is shown, so the extension (and tests) see the rendered values. */
function readBack(): RenderReport {
  const fields: Record<string, string> = {};
  for (const el of app.querySelectorAll<HTMLElement>('[data-field]')) {
    if (el.closest('[hidden]')) continue;
    fields[el.dataset.field!] = el instanceof HTMLSelectElement ? el.value : (el.textContent?.trim() ?? '');
  }
  const tables: Record<string, string[][]> = {};
  for (const el of app.querySelectorAll<HTMLElement>('[data-table-empty]')) tables[el.dataset.tableEmpty!] = [];
  for (const el of app.querySelectorAll<HTMLTableElement>('table[data-table]')) {
    tables[el.dataset.table!] = [...el.tBodies[0].rows].map((row) =>
      [...row.cells].map((c) => c.textContent?.trim() ?? ''),
    );
  }
  for (const el of app.querySelectorAll<HTMLElement>('[data-table-virtual]')) {
    tables[el.dataset.tableVirtual!] = [...el.querySelectorAll('.table-rows .vrow:not(.placeholder)')].map((row) =>
      [...row.children].map((c) => c.textContent?.trim() ?? ''),
    );
  }
  const report: RenderReport = {
    status: model?.status ?? 'loading',
    fields,
    tables,
    charts: {},
    view: { tab: persisted.tab, weight: detail?.row.name, scheme: detail?.scheme },
  };
  const add = (
    name: string,
    canvas: HTMLCanvasElement | undefined,
    cells?: string,
    box?: { left: number; top: number; width: number; height: number },
  ): void => {
    if (canvas && canvas.isConnected && !canvas.closest('[hidden]'))
      report.charts![name] = {
        width: canvas.clientWidth,
        height: canvas.clientHeight,
        painted: painted(canvas, box),
        ...(cells ? { cells } : {}),
      };
  };
  if (persisted.tab === 'layers' && detail) {
    add('histogram', charts.histogram?.ctx.canvas, undefined, charts.histogram?.bbox);
    add('channels', charts.channels?.ctx.canvas, undefined, charts.channels?.bbox);
    if (charts.heatmap?.hasPainted)
      add('heatmap', charts.heatmap.canvas, `${detail.heatmap.channels}x${detail.heatmap.blocks}`);
  }
  if (persisted.tab === 'heatmap' && modelHeatmap && charts.model?.hasPainted)
    add('modelHeatmap', charts.model.canvas, `${modelHeatmap.rows.length}x${modelHeatmap.schemes.length}`);
  if (probe) report.probe = probe;
  return report;
}

/** Scrolls the layer table through `rows` rows, one step per frame, and records the frame times. */
function runScrollProbe(rows: number): void {
  setTab('layers');
  requestAnimationFrame(() => {
    const el = viewport;
    if (!el) return;
    const frames = 240;
    const step = (Math.min(rows, cache.total) * ROW_HEIGHT) / frames;
    const times: number[] = [];
    probeScript = [];
    let last = performance.now();
    let i = 0;
    el.scrollTop = 0;
    const tick = (now: number): void => {
      times.push(now - last);
      last = now;
      if (++i > frames) {
        const sorted = times.slice(1).sort((a, b) => a - b);
        const script = (probeScript ?? []).sort((a, b) => a - b);
        probeScript = undefined;
        probe = {
          frames: sorted.length,
          maxMs: sorted[sorted.length - 1],
          p95Ms: sorted[Math.floor(sorted.length * 0.95)],
          meanMs: sorted.reduce((a, b) => a + b, 0) / sorted.length,
          rows: Math.min(rows, cache.total),
          scriptMaxMs: script[script.length - 1] ?? 0,
          scriptP95Ms: script[Math.floor(script.length * 0.95)] ?? 0,
        };
        vscode.postMessage({ type: 'rendered', report: readBack() });
        return;
      }
      el.scrollTop = i * step;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

// ---------------------------------------------------------------- messages

function showModel(state: ModelState): void {
  const wasReady = model?.status === 'ready';
  model = state;
  if (state.status === 'ready' && !wasReady) {
    resetTable();
    selectedIndex = undefined;
    detail = undefined;
    modelHeatmap = undefined;
    request('analysis/status', {}).then(setStatus, reportError);
    if (persisted.tab === 'heatmap') void loadModelHeatmap();
  }
  draw();
  if (state.status !== 'loading') {
    window.scrollTo(0, persisted.scrollY);
    if (viewport && persisted.tableScroll) viewport.scrollTop = persisted.tableScroll;
  }
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = decodeNumbers(event.data) as ToWebview;
  if (handleResponse(message)) return;
  switch (message.type) {
    case 'model/state':
      showModel(message.state);
      break;
    case 'analysis/status':
      setStatus(message.status);
      break;
    case 'settings/changed':
      settings = message.settings;
      charts.shownDetail = undefined;
      loadDetail();
      update();
      break;
    case 'ui/reveal':
      revealWeight(message.weight, message.scheme, message.tab);
      break;
    case 'probe/scroll':
      runScrollProbe(message.rows);
      break;
  }
});

let scrollTimer: number | undefined;
window.addEventListener('scroll', () => {
  window.clearTimeout(scrollTimer);
  scrollTimer = window.setTimeout(() => {
    persisted.scrollY = window.scrollY;
    vscode.setState(persisted);
  }, 200);
});
let resizeTimer: number | undefined;
window.addEventListener('resize', () => {
  window.clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    charts.shownDetail = undefined;
    charts.heatmap?.refresh();
    charts.model?.refresh();
    update();
  }, 150);
});
window.addEventListener('error', (event) => reportError(event.message));
window.addEventListener('unhandledrejection', (event) => reportError(event.reason));

async function start(): Promise<void> {
  settings = await request('settings/get', {});
  if (!restoredFromWebviewState) {
    // First time in this webview: take the view remembered for this model, if any.
    const view = await request('view/get', {});
    if (view) {
      persisted.tab = view.tab;
      if (view.query) persisted.query = { ...DEFAULT_QUERY, ...view.query };
      persisted.weight = view.weight;
      persisted.scheme = view.scheme;
      cache = new RowCache();
    }
  }
  showModel(await request('model/get', {}));
}

start().catch(reportError);
