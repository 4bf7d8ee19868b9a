/** Inspector templates around the table: analysis bar (schemes, progress, cancel), scheme picker, model sizes, layer detail. */
import { html, nothing, type TemplateResult } from 'lit';
import { cssom } from './cssom';
import type { ModelOverview } from '../src/core/onnx/overview';
import type { AnalysisStatus, LayerDetail } from '../src/protocol';
import { formatBytes, formatDb, formatInt, formatNum, formatPct, formatShape } from './format';

/** Actions of the analysis bar and picker. */
export interface BarActions {
  cancel(): void;
  resume(): void;
  removeScheme(id: string): void;
  addScheme(id: string): void;
  resetSchemes(): void;
  togglePicker(): void;
}

/** Schemes, progress with cancel, and the picker when open. */
export function analysisBar(status: AnalysisStatus | undefined, pickerOpen: boolean, a: BarActions): TemplateResult {
  if (!status) return html``;
  const { done, total, state } = status;
  const stateText = {
    idle: 'Not analysed yet',
    running: `Analysing… ${done} of ${total} weights`,
    done: `${total} weights analysed${status.ms !== undefined ? ` in ${(status.ms / 1000).toFixed(2)} s` : ''}`,
    cancelled: `Cancelled after ${done} of ${total} weights (results so far are shown)`,
    error: `Analysis failed: ${status.error ?? ''}`,
  }[state];
  return html`
    <div class="analysis-bar">
      <div class="schemes" role="list" aria-label="Schemes compared">
        <span class="muted">Schemes</span>
        ${status.schemes.map(
          (id) =>
            html`<span class="chip" role="listitem" data-scheme=${id}
              >${id}<button
                class="icon"
                title=${`Remove ${id}`}
                aria-label=${`Remove ${id}`}
                ?disabled=${status.schemes.length <= 1}
                @click=${() => a.removeScheme(id)}
              >
                <span class="codicon codicon-close"></span></button
            ></span>`,
        )}
        <vscode-button secondary icon="add" @click=${a.togglePicker} aria-expanded=${pickerOpen}
          >Schemes…</vscode-button
        >
      </div>
      <div class="progress" data-field="analysisState" data-state=${state}>
        ${state === 'running' ? html`<vscode-progress-bar value=${total ? (100 * done) / total : 0} max="100" aria-label="Analysis progress"></vscode-progress-bar>` : nothing}
        <span class=${state === 'error' ? 'error-text' : 'muted'}>${stateText}</span>
        ${state === 'running' ? html`<vscode-button secondary icon="debug-stop" @click=${a.cancel}>Cancel</vscode-button>` : nothing}
        ${state === 'cancelled' || state === 'error' ? html`<vscode-button secondary icon="debug-continue" @click=${a.resume}>Resume</vscode-button>` : nothing}
      </div>
    </div>
    ${pickerOpen ? schemePicker(status.schemes, a) : nothing}
  `;
}

function schemePicker(current: string[], a: BarActions): TemplateResult {
  const value = (id: string): string => (document.getElementById(id) as HTMLSelectElement | null)?.value ?? '';
  const add = (): void => {
    const bits = value('pick-bits');
    const gran = value('pick-gran');
    const asym = (document.getElementById('pick-asym') as HTMLInputElement | null)?.checked ? '-asym' : '';
    a.addScheme(`int${bits}-${gran === 'block' ? `block${value('pick-block')}` : gran}${asym}`);
  };
  const floats = ['fp16', 'bf16', 'fp8-e4m3', 'fp8-e5m2'];
  return html`<div class="picker" role="group" aria-label="Add a scheme">
    <div class="picker-row">
      <label
        >Integer: int<select id="pick-bits" aria-label="Bit width">
          ${[8, 7, 6, 5, 4, 3, 2].map((b) => html`<option value=${b} ?selected=${b === 4}>${b}</option>`)}
        </select></label
      >
      <label
        >granularity
        <select id="pick-gran" aria-label="Granularity">
          <option value="tensor">per tensor</option>
          <option value="channel">per channel</option>
          <option value="block" selected>blocks</option>
        </select></label
      >
      <label
        >block size
        <select id="pick-block" aria-label="Block size">
          ${[16, 32, 64, 128].map((b) => html`<option value=${b} ?selected=${b === 32}>${b}</option>`)}
        </select></label
      >
      <label><input type="checkbox" id="pick-asym" /> asymmetric (zero point)</label>
      <vscode-button icon="add" @click=${add}>Add</vscode-button>
    </div>
    <div class="picker-row">
      <span class="muted">Float:</span>
      ${floats.map((f) => html`<vscode-button secondary ?disabled=${current.includes(f)} @click=${() => a.addScheme(f)}>${f}</vscode-button>`)}
      <vscode-button
        secondary
        icon="discard"
        @click=${a.resetSchemes}
        title="The schemes of the quantlens.analysis.defaultSchemes setting"
        >Defaults</vscode-button
      >
    </div>
    <p class="muted small">
      Symmetric intN: scale = absmax / (2^(N−1) − 1); asymmetric: (max − min) / (2^N − 1) with a zero point; blocks run
      along the reduction axis. Results already computed are reused.
    </p>
  </div>`;
}

/** Weight bytes by stored dtype as one bar, and the model size under each scheme with the saving. */
export function sizesView(o: ModelOverview, status: AnalysisStatus | undefined): TemplateResult {
  const total = o.byDtype.reduce((s, d) => s + d.bytes, 0) || 1;
  const palette = [
    '--vscode-charts-blue',
    '--vscode-charts-orange',
    '--vscode-charts-green',
    '--vscode-charts-purple',
    '--vscode-charts-yellow',
    '--vscode-charts-red',
  ];
  const current = status?.weightBytes ?? total;
  const max = Math.max(current, ...(status?.sizes ?? []).map((s) => s.bytes), 1);
  return html`
    <div class="dtype-bar" role="img" aria-label="Weight bytes by stored type" data-chart-bar="dtypes">
      ${o.byDtype.map((d, i) => html`<span ${cssom({ flex: String(d.bytes / total), background: `var(${palette[i % palette.length]})` })} title=${`${d.dtype}: ${formatBytes(d.bytes)} (${formatPct(d.bytes / total)})`}></span>`)}
    </div>
    <div class="legend">
      ${o.byDtype.map((d, i) => html`<span><i ${cssom({ background: `var(${palette[i % palette.length]})` })}></i>${d.dtype} ${formatBytes(d.bytes)}</span>`)}
    </div>
    ${
      status && status.sizes.length > 0
        ? html` <table class="data" data-table="sizes">
              <thead>
                <tr>
                  <th>Stored as</th>
                  <th class="num">Weight bytes</th>
                  <th class="num">Size</th>
                  <th class="num">Saving</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                <tr>
                  <td>as stored now</td>
                  <td class="num">${formatInt(current)}</td>
                  <td class="num">${formatBytes(current)}</td>
                  <td class="num">—</td>
                  <td><div class="size-bar" ${cssom({ width: `${(100 * current) / max}%` })}></div></td>
                </tr>
                ${status.sizes.map(
                  (s) =>
                    html`<tr>
                      <td>${s.scheme}</td>
                      <td class="num">${formatInt(s.bytes)}</td>
                      <td class="num">${formatBytes(s.bytes)}</td>
                      <td class="num">${current > 0 ? formatPct(1 - s.bytes / current) : '—'}</td>
                      <td><div class="size-bar" ${cssom({ width: `${(100 * s.bytes) / max}%` })}></div></td>
                    </tr>`,
                )}
              </tbody>
            </table>
            <p class="muted small">
              Quantizable weights at the scheme (packed values, float32 scales, packed zero points); other weights as
              stored.
            </p>`
        : nothing
    }
  `;
}

/** Actions of the detail view. */
export interface DetailActions {
  setScheme(id: string): void;
  toggleLog(): void;
  exportChart(name: 'histogram' | 'heatmap' | 'channels'): void;
  resetZoom(): void;
}

/** The layer detail: header, metrics, and the containers the charts are mounted in. */
export function detailView(
  d: LayerDetail | undefined,
  loading: boolean,
  error: string | undefined,
  schemes: string[],
  log: boolean,
  a: DetailActions,
): TemplateResult {
  if (error) return html`<section class="detail"><p class="error-text" data-field="detailError">${error}</p></section>`;
  if (!d)
    return html`<section class="detail">
      <p class="muted">${loading ? 'Reading the weight…' : 'Select a layer to see its histogram and error heatmap.'}</p>
    </section>`;
  const r = d.row;
  const m = d.metrics;
  const g = d.grid;
  return html`<section class="detail" aria-label="Layer detail" aria-busy=${loading}>
    <header class="detail-head">
      <h2 data-field="detailLayer">${r.layer} <span class="muted">${r.op}</span></h2>
      <span class="muted" data-field="detailTensor">${r.name} · ${formatShape(r.shape)} · ${r.dtype}</span>
      ${
        r.quantizable
          ? html`<label class="scheme-select"
              >Scheme
              <select
                data-field="detailScheme"
                @change=${(e: Event) => a.setScheme((e.target as HTMLSelectElement).value)}
              >
                ${schemes.map((s) => html`<option ?selected=${s === d.scheme} value=${s}>${s}</option>`)}
              </select></label
            >`
          : html`<span class="muted">not quantizable (${r.role})</span>`
      }
    </header>
    ${d.stored ? html`<p class="stored" data-field="detailStored"><span class="codicon codicon-package"></span> Stored quantized: ${d.stored.summary} (dequantized by ${d.stored.op} <code>${d.stored.node}</code>)</p>` : nothing}
    <div class="fields">
      ${metric('detailSqnr', 'SQNR', m ? `${formatDb(m.sqnrDb)} dB` : '—')}
      ${metric('detailMse', 'MSE', m ? formatNum(m.mse) : '—')}
      ${metric('detailMaxErr', 'Max |error|', m ? formatNum(m.maxAbsError) : '—')}
      ${metric('detailCosine', 'Cosine', m ? m.cosine.toFixed(6) : '—')}
      ${metric('detailClipped', 'Clipped', m ? formatPct(m.clippedFraction) : '—')}
      ${metric('detailZeroed', 'Non-zero → 0', m ? formatPct(m.zeroedFraction) : '—')}
      ${metric('detailAbsmax', 'absmax', formatNum(d.stats.absmax))}
      ${metric('detailStd', 'std', formatNum(d.stats.std))}
      ${metric('detailKurtosis', 'Kurtosis', formatNum(d.stats.kurtosis))}
      ${metric('detailNonFinite', 'NaN / Inf', `${formatInt(d.stats.nans)} / ${formatInt(d.stats.infs)}`)}
    </div>
    <div class="chart-head">
      <h3>
        Histogram <span class="muted small">${formatInt(d.stats.count)} values, ${d.histogram.counts.length} bins</span>
      </h3>
      <label><input type="checkbox" ?checked=${log} @change=${a.toggleLog} /> log count</label>
      <vscode-button secondary icon="desktop-download" @click=${() => a.exportChart('histogram')} title="Save as PNG"
        >PNG</vscode-button
      >
    </div>
    ${
      g
        ? html`<p class="muted small" data-field="detailGrid">
            ${d.scheme} grid of the ${g.group}:
            ${g.levels.length ? `${formatInt(g.levels.length)} levels, step ${formatNum(g.scale)}` : 'finer than the bins'};
            clipping range [${formatNum(g.clipMin)}, ${formatNum(g.clipMax)}]
            (dashed)${g.groups > 1 ? `; scales across ${formatInt(g.groups)} groups from ${formatNum(g.scaleMin)} to ${formatNum(g.scaleMax)}` : ''}.
            ${d.beyondGrid > 0 ? html`<span class="warn-text">${formatInt(d.beyondGrid)} values lie beyond this grid (red): outliers that widen their groups' scales.</span>` : 'No value lies beyond this grid.'}
          </p>`
        : nothing
    }
    <div class="chart" data-chart="histogram" id="chart-histogram"></div>
    ${
      r.quantizable && d.heatmap.channels > 0
        ? html` <div class="chart-head">
              <h3>
                Error heatmap
                <span class="muted small" data-field="detailHeatmapSize"
                  >${formatInt(d.heatmap.channels)} ${d.channelLabel}s × ${formatInt(d.heatmap.blocks)}
                  block${d.heatmap.blocks === 1 ? '' : 's'} of ${formatInt(d.heatmap.blockSize)} values</span
                >
              </h3>
              <span class="muted small">wheel: zoom · drag: pan · double-click: reset</span>
              <vscode-button secondary icon="zoom-out" @click=${a.resetZoom}>Reset</vscode-button>
              <vscode-button
                secondary
                icon="desktop-download"
                @click=${() => a.exportChart('heatmap')}
                title="Save as PNG"
                >PNG</vscode-button
              >
            </div>
            <div class="heatmap-wrap">
              <canvas
                class="heatmap"
                data-chart="heatmap"
                id="chart-heatmap"
                tabindex="0"
                aria-label="Per-channel x per-block SQNR heatmap"
              ></canvas>
              <div class="tooltip" id="heatmap-tip" hidden></div>
            </div>
            <div class="chart-head">
              <h3>
                Per-${d.channelLabel} SQNR, sorted
                <span class="muted small"
                  >worst ${d.channelLabel}:
                  ${d.channelOrder.length ? `${d.channelOrder[0]} at ${formatDb(d.channelSqnr[0])} dB` : '—'}</span
                >
              </h3>
              <vscode-button
                secondary
                icon="desktop-download"
                @click=${() => a.exportChart('channels')}
                title="Save as PNG"
                >PNG</vscode-button
              >
            </div>
            <div class="chart" data-chart="channels" id="chart-channels"></div>`
        : nothing
    }
  </section>`;
}

const metric = (field: string, label: string, value: string): TemplateResult =>
  html`<div class="field">
    <span class="label">${label}</span><span class="value" data-field=${field}>${value}</span>
  </div>`;
