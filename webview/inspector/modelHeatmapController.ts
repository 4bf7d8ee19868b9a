/** The model heatmap tab's controller: SQNR of every quantizable weight under every scheme; a click opens that layer. */
import { html, type TemplateResult } from 'lit';
import { downsampleTile } from '../../src/core/view/heatmapTiles';
import type { ModelHeatmap } from '../../src/protocol';
import { colormap, SQNR_DOMAIN } from '../colormap';
import { cssom } from '../cssom';
import { HeatmapCanvas, type HeatmapSource, type Tile } from '../heatmapCanvas';
import { request } from '../rpc';
import type { InspectorState } from './state';
import { reportRendered } from './testHooks';
import { exportCanvas, reportError, type Ui } from './ui';

const formatCount = (n: number): string => n.toLocaleString('en-US');

/** The model heatmap's tile for a view: each shown cell the worst SQNR of the layers it covers (core's rule). */
function modelTile(data: ModelHeatmap, v: { row0: number; rows: number }, maxRows: number): Tile {
  const n = data.schemes.length;
  return downsampleTile(
    { channels: data.rows.length, blocks: n, sqnr: data.sqnr },
    { channel0: v.row0, channels: v.rows, block0: 0, blocks: n, maxRows, maxCols: n },
  );
}

/** Loads and draws the model heatmap; `reveal` opens a layer under a scheme. */
export class ModelHeatmapController {
  constructor(
    private readonly s: InspectorState,
    private readonly ui: Ui,
    private readonly reveal: (weight: string, scheme: string) => void,
  ) {}

  /** Asks for the model heatmap (again: it fills in while the analysis runs). */
  async load(): Promise<void> {
    this.s.lastHeatmapLoad = Date.now();
    try {
      this.s.modelHeatmap = await request('model/heatmap', {});
      this.ui.update();
    } catch (e) {
      reportError(e);
    }
  }

  /** The heatmap tab: heading, the canvas, the colour scale note. */
  view(): TemplateResult {
    const data = this.s.modelHeatmap;
    if (!data) return html`<p class="muted">Loading…</p>`;
    const rows = data.rows.length;
    if (rows === 0) return html`<p class="empty" data-field="modelHeatmapEmpty">No quantizable weights.</p>`;
    const height = Math.min(Math.max(rows * 16, 160), 640) + 50;
    const save = (): void => void (this.s.charts.model && exportCanvas('model-heatmap', this.s.charts.model.canvas));
    return html`
      <div class="chart-head">
        <h3>
          SQNR by layer and scheme
          <span class="muted small" data-field="modelHeatmapSize"
            >${formatCount(rows)} layers × ${data.schemes.length} schemes</span
          >
        </h3>
        <span class="muted small"
          >click a cell (or arrow keys, then Enter) to open that layer under that scheme · wheel: zoom · drag: pan</span
        >
        <vscode-button secondary icon="desktop-download" @click=${save}>PNG</vscode-button>
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
        Colour scale fixed at ${SQNR_DOMAIN[0]}–${SQNR_DOMAIN[1]} dB (as in the table) so layers and models compare;
        every 6 dB is one bit of resolution.
      </p>
    `;
  }

  /** Creates or refreshes the heatmap canvas after a render. */
  mount(): void {
    const canvas = document.getElementById('chart-model') as HTMLCanvasElement | null;
    const data = this.s.modelHeatmap;
    if (this.s.persisted.tab !== 'heatmap' || !canvas || !data) return;
    const { charts } = this.s;
    const map = colormap(this.s.settings.colormap);
    const source: HeatmapSource = {
      rows: data.rows.length,
      cols: data.schemes.length,
      rowLabel: 'layer (graph order)',
      colLabel: 'scheme',
      rowNames: data.rows.map((r) => r.label),
      colNames: data.schemes,
      domain: SQNR_DOMAIN,
      zoomCols: false,
      fetch: (v, maxRows) => Promise.resolve(modelTile(data, v, maxRows)),
      onClick: (row, col) => this.reveal(data.rows[row].name, data.schemes[col]),
    };
    if (charts.model?.canvas === canvas) charts.model.update(source, map, true);
    else {
      charts.model = new HeatmapCanvas(canvas, document.getElementById('model-tip')!, source, map, reportError);
      charts.model.refresh();
    }
    if (__QUANTLENS_TEST_HOOKS__) void charts.model.painted.then(() => reportRendered(this.s));
  }
}
