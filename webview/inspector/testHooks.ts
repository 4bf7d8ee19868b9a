/**
 * Test builds only (every use sits behind `__QUANTLENS_TEST_HOOKS__`, so production bundles drop this module):
 * reads back from the DOM what the inspector shows, counts painted chart pixels, and measures scrolling.
 */
import type { FromWebview } from '../../src/protocol';
import type { InspectorTestFromWebview, RenderReport } from '../../src/testHooks';
import { vscode } from '../rpc';
import type { InspectorState } from './state';
import { ROW_HEIGHT } from './tableView';

type Box = { left: number; top: number; width: number; height: number };

/** Posts what the inspector shows to the extension (which keeps it for the tests). */
export function reportRendered(s: InspectorState): void {
  const message: InspectorTestFromWebview = { type: 'rendered', report: readBack(s, document.getElementById('app')!) };
  // Not a message of the shipped protocol: the test build's extension handles it before the others.
  vscode.postMessage(message as unknown as FromWebview);
}

/**
 * Painted pixels of a canvas (in `box`, device pixels): at least half opaque, so the histogram's bar fills (60%
 * alpha) count as well as strokes and grid lines.
 */
function painted(canvas: HTMLCanvasElement, box?: Box): number {
  const ctx = canvas.getContext('2d');
  if (!ctx || canvas.width === 0 || canvas.height === 0) return 0;
  const b = box ?? { left: 0, top: 0, width: canvas.width, height: canvas.height };
  const data = ctx.getImageData(b.left, b.top, Math.max(1, b.width), Math.max(1, b.height)).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] >= 128) n++;
  return n;
}

/** Text of the visible `data-field` elements and cells of the `data-table` tables and the virtual layer table. */
function readTexts(app: HTMLElement): Pick<RenderReport, 'fields' | 'tables'> {
  const fields: Record<string, string> = {};
  for (const el of app.querySelectorAll<HTMLElement>('[data-field]')) {
    if (el.closest('[hidden]')) continue;
    fields[el.dataset.field!] = el instanceof HTMLSelectElement ? el.value : (el.textContent?.trim() ?? '');
  }
  const tables: Record<string, string[][]> = {};
  const texts = (cells: Iterable<Element>): string[] => [...cells].map((c) => c.textContent?.trim() ?? '');
  for (const el of app.querySelectorAll<HTMLElement>('[data-table-empty]')) tables[el.dataset.tableEmpty!] = [];
  for (const el of app.querySelectorAll<HTMLTableElement>('table[data-table]')) {
    tables[el.dataset.table!] = [...el.tBodies[0].rows].map((row) => texts(row.cells));
  }
  for (const el of app.querySelectorAll<HTMLElement>('[data-table-virtual]')) {
    const rows = el.querySelectorAll('.table-rows .vrow:not(.placeholder)');
    tables[el.dataset.tableVirtual!] = [...rows].map((row) => texts(row.children));
    // The column keys in their order ("index", "layer", "sqnr:int4-block32", ...), to read cells by column.
    const head = [...el.querySelectorAll<HTMLElement>('.vhead [role="columnheader"]')].map((h) => h.dataset.col ?? '');
    tables[`${el.dataset.tableVirtual!}.columns`] = [head];
  }
  return { fields, tables };
}

/** Reads back from the DOM what is shown, so the extension (and tests) see the rendered values. */
function readBack(s: InspectorState, app: HTMLElement): RenderReport {
  const { charts, persisted, modelHeatmap } = s;
  const detail = s.detail.shown;
  const report: RenderReport = {
    status: s.model?.status ?? 'loading',
    ...readTexts(app),
    charts: {},
    view: { tab: persisted.tab, weight: detail?.row.name, scheme: detail?.scheme },
  };
  const add = (name: string, canvas: HTMLCanvasElement | undefined, cells?: string, box?: Box): void => {
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
    add('activation', charts.activation?.ctx.canvas, undefined, charts.activation?.bbox);
    add('activationChannels', charts.activationChannels?.ctx.canvas, undefined, charts.activationChannels?.bbox);
    if (charts.heatmap?.hasPainted)
      add('heatmap', charts.heatmap.canvas, `${detail.heatmap.channels}x${detail.heatmap.blocks}`);
  }
  if (persisted.tab === 'heatmap' && modelHeatmap && charts.model?.hasPainted)
    add('modelHeatmap', charts.model.canvas, `${modelHeatmap.rows.length}x${modelHeatmap.schemes.length}`);
  if (s.test.probe) report.probe = s.test.probe;
  return report;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.floor(sorted.length * p)];

/** Scrolls the layer table (shown by `showLayers`) through `rows` rows, one step per frame, and records the frame times. */
export function runScrollProbe(s: InspectorState, rows: number, showLayers: () => void): void {
  showLayers();
  requestAnimationFrame(() => {
    const el = s.table.viewport;
    if (!el) return;
    const frames = 240;
    const shownRows = Math.min(rows, s.table.cache.total);
    const step = (shownRows * ROW_HEIGHT) / frames;
    const times: number[] = [];
    s.test.rowTimes = [];
    let last = performance.now();
    let i = 0;
    el.scrollTop = 0;
    const tick = (now: number): void => {
      times.push(now - last);
      last = now;
      if (++i <= frames) {
        el.scrollTop = i * step;
        requestAnimationFrame(tick);
        return;
      }
      const sorted = times.slice(1).sort((a, b) => a - b);
      const script = (s.test.rowTimes ?? []).sort((a, b) => a - b);
      s.test.rowTimes = undefined;
      s.test.probe = {
        frames: sorted.length,
        maxMs: sorted[sorted.length - 1],
        p95Ms: percentile(sorted, 0.95),
        meanMs: sorted.reduce((a, b) => a + b, 0) / sorted.length,
        rows: shownRows,
        scriptMaxMs: script[script.length - 1] ?? 0,
        scriptP95Ms: percentile(script, 0.95) ?? 0,
      };
      reportRendered(s);
    };
    requestAnimationFrame(tick);
  });
}
