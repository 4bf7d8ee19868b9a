/** The layer detail's controller: reads the selected weight's detail under a scheme and mounts its charts. */
import type { TemplateResult } from 'lit';
import type { LayerDetail } from '../../src/protocol';
import { channelRangeChart } from '../activationCharts';
import { channelLineChart, histogramChart } from '../charts';
import { colormap, SQNR_DOMAIN } from '../colormap';
import { HeatmapCanvas, type HeatmapSource } from '../heatmapCanvas';
import { request } from '../rpc';
import { detailView, type DetailActions } from './detailView';
import type { InspectorState } from './state';
import { reportRendered } from './testHooks';
import { errorText, exportCanvas, reportError, type Ui } from './ui';

/** The scheme a detail opens with: the one chosen last, else the coarsest integer scheme compared. */
function detailScheme(schemes: string[], chosen: string | undefined): string {
  if (chosen && schemes.includes(chosen)) return chosen;
  const bits = (id: string): number => Number(/^int(\d)/.exec(id)?.[1] ?? 99);
  return [...schemes].sort((a, b) => bits(a) - bits(b))[0];
}

/** The weight's channels x blocks heatmap, fetched as tiles from the extension. */
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

/** Loads and shows the selected weight's detail (test builds report again once its charts are painted). */
export class DetailController {
  private readonly actions: DetailActions = {
    setScheme: (id) => {
      this.s.persisted.scheme = id;
      this.ui.save();
      this.load();
    },
    toggleLog: () => {
      this.s.persisted.log = !this.s.persisted.log;
      this.ui.save();
      this.ui.update();
    },
    exportChart: (name) => {
      const { charts, detail } = this.s;
      const chart = name === 'heatmap' ? charts.heatmap : charts[name];
      const canvas = chart instanceof HeatmapCanvas ? chart.canvas : chart?.ctx.canvas;
      if (canvas) exportCanvas(`${detail.shown?.row.name ?? 'layer'}-${detail.shown?.scheme ?? ''}-${name}`, canvas);
    },
    resetZoom: () =>
      this.s.charts.heatmap?.update(heatmapSource(this.s.detail.shown!), colormap(this.s.settings.colormap)),
  };

  constructor(
    private readonly s: InspectorState,
    private readonly ui: Ui,
  ) {}

  /** The detail section of the layers tab. */
  view(): TemplateResult {
    const { detail, status, persisted } = this.s;
    return detailView(detail.shown, detail.loading, detail.error, status?.schemes ?? [], persisted.log, this.actions);
  }

  /** Reads the selected weight's detail under its scheme (replies to older requests are dropped). */
  load(): void {
    const { s } = this;
    if (s.table.selectedIndex === undefined || !s.status) return;
    const scheme = detailScheme(s.status.schemes, s.persisted.scheme);
    const id = ++s.detail.request;
    s.detail.loading = true;
    request('layer/detail', { index: s.table.selectedIndex, scheme, bins: s.settings.histogramBins })
      .then(
        (d) => {
          if (id !== s.detail.request) return;
          s.detail.shown = d;
          s.detail.error = undefined;
        },
        (e: unknown) => {
          if (id !== s.detail.request) return;
          s.detail.shown = undefined;
          s.detail.error = errorText(e);
        },
      )
      .finally(() => {
        if (id !== s.detail.request) return;
        s.detail.loading = false;
        this.ui.update();
      });
  }

  /** Creates or refreshes the charts after a render (they live outside lit's templates). */
  mount(): void {
    const { charts, persisted } = this.s;
    const detail = this.s.detail.shown;
    if (persisted.tab !== 'layers' || !detail) return;
    const fresh = charts.shownDetail !== detail || charts.shownLog !== persisted.log;
    this.mountPlots(detail, fresh);
    const canvas = document.getElementById('chart-heatmap') as HTMLCanvasElement | null;
    if (canvas && (fresh || charts.heatmap?.canvas !== canvas)) this.mountHeatmap(detail, canvas);
    charts.shownDetail = detail;
    charts.shownLog = persisted.log;
    if (__QUANTLENS_TEST_HOOKS__) void Promise.resolve().then(() => reportRendered(this.s));
  }

  private mountPlots(detail: LayerDetail, fresh: boolean): void {
    const { charts, persisted } = this.s;
    const histEl = document.getElementById('chart-histogram');
    if (histEl && (fresh || !histEl.firstChild)) {
      const data = { ...detail.histogram, grid: detail.grid, log: persisted.log };
      charts.histogram = histogramChart(histEl, data, charts.histogram);
    }
    const lineEl = document.getElementById('chart-channels');
    if (lineEl && (fresh || !lineEl.firstChild)) {
      const { channelSqnr, channelOrder, channelLabel } = detail;
      charts.channels = channelLineChart(lineEl, channelSqnr, channelOrder, channelLabel, charts.channels);
    }
    this.mountActivation(detail, fresh);
  }

  /** The input activation's histogram (with its integer grid) and channel ranges, when the detail has them. */
  private mountActivation(detail: LayerDetail, fresh: boolean): void {
    const { charts, persisted } = this.s;
    const a = detail.activation;
    const histEl = document.getElementById('chart-activation');
    if (!a || !histEl) {
      charts.activation?.destroy();
      charts.activationChannels?.destroy();
      charts.activation = charts.activationChannels = undefined;
      return;
    }
    if (fresh || !histEl.firstChild) {
      const data = { ...a.histogram, grid: a.grid, log: persisted.log, xLabel: 'activation value' };
      charts.activation = histogramChart(histEl, data, charts.activation);
    }
    const chEl = document.getElementById('chart-activation-channels');
    if (chEl && (fresh || !chEl.firstChild)) {
      const clip = Math.max(Math.abs(a.grid.clipMin), Math.abs(a.grid.clipMax));
      charts.activationChannels = channelRangeChart(chEl, { ...a.channels, clip }, charts.activationChannels);
    } else if (!chEl) {
      charts.activationChannels?.destroy();
      charts.activationChannels = undefined;
    }
  }

  private mountHeatmap(detail: LayerDetail, canvas: HTMLCanvasElement): void {
    const { charts } = this.s;
    const map = colormap(this.s.settings.colormap);
    const source = heatmapSource(detail);
    if (charts.heatmap?.canvas === canvas) {
      const shown = charts.shownDetail;
      charts.heatmap.update(source, map, shown?.row.index === detail.row.index && shown?.scheme === detail.scheme);
    } else {
      charts.heatmap = new HeatmapCanvas(canvas, document.getElementById('heatmap-tip')!, source, map, reportError);
      charts.heatmap.refresh();
    }
    if (__QUANTLENS_TEST_HOOKS__) void charts.heatmap.painted.then(() => reportRendered(this.s));
  }
}
