/** The layer detail's templates: header with the scheme, error metrics, histogram and heatmap headings, and the chart containers. */
import { html, nothing, type TemplateResult } from 'lit';
import type { LayerDetail } from '../../src/protocol';
import { SQNR_MEANING } from '../../src/core/view/tableColumns';
import { ranksDisagree } from '../../src/core/view/layerTableView';
import { activationSection, type ActivationChart } from './activationSection';
import { countLabel, formatInt, formatNum, formatPct, formatShape, formatSqnr } from '../format';

/** Actions of the detail view. */
export interface DetailActions {
  setScheme(id: string): void;
  toggleLog(): void;
  exportChart(name: 'histogram' | 'heatmap' | 'channels' | ActivationChart): void;
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
  return html`<section class="detail" aria-label="Layer detail" aria-busy=${loading}>
    ${detailHeader(d, schemes, a)}
    ${d.stored ? html`<p class="stored" data-field="detailStored"><span class="codicon codicon-package"></span> Stored quantized: ${d.stored.summary} (dequantized by ${d.stored.op} <code>${d.stored.node}</code>)</p>` : nothing}
    ${measuredNote(d)} ${detailMetrics(d)} ${histogramHead(d, log, a)} ${gridNote(d)}
    <div class="chart" data-chart="histogram" id="chart-histogram"></div>
    ${activationSection(d, a.exportChart)}
    ${d.row.quantizable && d.heatmap.channels > 0 ? html`${heatmapSection(d, a)} ${channelSection(d, a)}` : nothing}
  </section>`;
}

function detailHeader(d: LayerDetail, schemes: string[], a: DetailActions): TemplateResult {
  const r = d.row;
  return html`<header class="detail-head">
    <h2 data-field="detailLayer" title=${r.layer}>
      ${r.layerShort} <span class="muted">${r.op}${r.kind === 'unknown' ? '' : ` · ${r.kind}`}</span>
    </h2>
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
        : html`<span class="muted" title=${r.reason ?? r.role} data-field="detailReason"
            >not quantizable (${r.role}${r.reason ? `: ${r.reason}` : ''})</span
          >`
    }
  </header>`;
}

function detailMetrics(d: LayerDetail): TemplateResult {
  const m = d.metrics;
  return html`<div class="fields">
    ${metric('detailSqnr', 'SQNR', m ? formatSqnr(m.sqnrDb) : '—', SQNR_MEANING)}
    ${metric('detailMse', 'MSE', m ? formatNum(m.mse) : '—')}
    ${metric('detailMaxErr', 'Max |error|', m ? formatNum(m.maxAbsError) : '—')}
    ${metric('detailCosine', 'Cosine', m ? m.cosine.toFixed(6) : '—')}
    ${metric('detailClipped', 'Clipped (beyond their own group’s range)', m ? formatPct(m.clippedFraction) : '—', 'Values outside the range of the scale of their own channel or block: they saturate')}
    ${metric('detailZeroed', 'Non-zero → 0', m ? formatPct(m.zeroedFraction) : '—')}
    ${metric('detailAbsmax', 'absmax', formatNum(d.stats.absmax))} ${metric('detailStd', 'std', formatNum(d.stats.std))}
    ${metric('detailKurtosis', 'Kurtosis', formatNum(d.stats.kurtosis))}
    ${metric('detailNonFinite', 'NaN / Inf', `${formatInt(d.stats.nans)} / ${formatInt(d.stats.infs)}`)}
  </div>`;
}

function histogramHead(d: LayerDetail, log: boolean, a: DetailActions): TemplateResult {
  return html`<div class="chart-head">
    <h3>
      Histogram
      <span class="muted small"
        >${countLabel(d.stats.count, 'value')}, ${countLabel(d.histogram.counts.length, 'bin')}</span
      >
    </h3>
    <label><input type="checkbox" ?checked=${log} @change=${a.toggleLog} /> log count</label>
    <vscode-button secondary icon="desktop-download" @click=${() => a.exportChart('histogram')} title="Save as PNG"
      >PNG</vscode-button
    >
  </div>`;
}

/** The scheme's grid over the histogram: levels, step, clipping range, values beyond it. */
function gridNote(d: LayerDetail): TemplateResult | typeof nothing {
  const g = d.grid;
  if (!g) return nothing;
  return html`<p class="muted small" data-field="detailGrid">
    ${d.scheme} grid of the ${g.group}:
    ${g.levels.length ? `${formatInt(g.levels.length)} levels, step ${formatNum(g.scale)}` : 'finer than the bins'};
    clipping range [${formatNum(g.clipMin)}, ${formatNum(g.clipMax)}]
    (dashed)${g.groups > 1 ? `; scales across ${formatInt(g.groups)} groups from ${formatNum(g.scaleMin)} to ${formatNum(g.scaleMax)}` : ''}.
    ${beyondNote(d, g.groups)}
  </p>`;
}

/** What the values beyond the grid drawn are: clipped (one scale) or in groups with wider scales (not clipped). */
function beyondNote(d: LayerDetail, groups: number): TemplateResult | string {
  const n = d.beyondGrid;
  if (n === 0) return 'No value lies beyond this grid.';
  const lie = `${countLabel(n, 'value')} ${n === 1 ? 'lies' : 'lie'}`;
  return groups > 1
    ? html`<span class="warn-text" data-field="detailBeyond"
        >${lie} beyond this group’s range (red): they belong to groups with wider scales (outliers widen their own
        group’s scale), so they are not clipped there; “Clipped” counts values beyond their own group’s range.</span
      >`
    : html`<span class="warn-text" data-field="detailBeyond">${lie} beyond this grid (red): they are clipped.</span>`;
}

function heatmapSection(d: LayerDetail, a: DetailActions): TemplateResult {
  return html`<div class="chart-head">
      <h3>
        Error heatmap
        <span class="muted small" data-field="detailHeatmapSize"
          >${countLabel(d.heatmap.channels, d.channelLabel)} × ${countLabel(d.heatmap.blocks, 'block')} of
          ${countLabel(d.heatmap.blockSize, 'value')}</span
        >
      </h3>
      <span class="muted small">wheel: zoom · drag: pan · double-click: reset</span>
      <vscode-button secondary icon="zoom-out" @click=${a.resetZoom}>Reset</vscode-button>
      <vscode-button secondary icon="desktop-download" @click=${() => a.exportChart('heatmap')} title="Save as PNG"
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
    </div>`;
}

function channelSection(d: LayerDetail, a: DetailActions): TemplateResult {
  return html`<div class="chart-head">
      <h3>
        Per-${d.channelLabel} SQNR, sorted
        <span class="muted small"
          >worst ${d.channelLabel}:
          ${d.channelOrder.length ? `${d.channelOrder[0]} at ${formatSqnr(d.channelSqnr[0])}` : '—'}</span
        >
      </h3>
      <vscode-button secondary icon="desktop-download" @click=${() => a.exportChart('channels')} title="Save as PNG"
        >PNG</vscode-button
      >
    </div>
    <div class="chart" data-chart="channels" id="chart-channels"></div>`;
}

const metric = (field: string, label: string, value: string, tip?: string): TemplateResult =>
  html`<div class="field" title=${tip ?? nothing}>
    <span class="label">${label}</span><span class="value" data-field=${field}>${value}</span>
  </div>`;

/** The measured effect of the layer next to its SQNR rank, and a note when the two disagree. */
function measuredNote(d: LayerDetail): TemplateResult | typeof nothing {
  const s = d.row.sensitivity;
  if (!s) return nothing;
  const sqnr = s.sqnrRank !== undefined ? ` SQNR ranks it #${s.sqnrRank} of ${s.ranked} under ${s.scheme}.` : '';
  const disagree = ranksDisagree(s)
    ? html` <strong class="warn-text" data-field="detailDisagree"
        >The static SQNR and the measured effect disagree on this layer: trust the measurement.</strong
      >`
    : nothing;
  return html`<p class="small" data-field="detailMeasured">
    Measured by the latest evaluation: #${s.rank} most sensitive, ${s.text}.${sqnr}${disagree}
  </p>`;
}
