/** The layer detail's activation section (issue 20): the input activation's numbers, histogram with its grid, channel ranges. */
import { html, nothing, type TemplateResult } from 'lit';
import type { ActivationDetail, LayerDetail } from '../../src/protocol';
import { ACTIVATION_MEANING } from '../../src/core/view/tableColumns';
import { countLabel, formatInt, formatNum, formatPct, formatSqnr } from '../format';

/** The chart names of the section (PNG export). */
export type ActivationChart = 'activation' | 'activationChannels';

const field = (name: string, label: string, value: string, tip?: string): TemplateResult =>
  html`<div class="field" title=${tip ?? nothing}>
    <span class="label">${label}</span><span class="value" data-field=${name}>${value}</span>
  </div>`;

function typeName(a: ActivationDetail['stat']): string {
  return `${a.signed ? 'int' : 'uint'}${a.bits}`;
}

function fields(a: ActivationDetail): TemplateResult {
  const s = a.stat;
  return html`<div class="fields">
    ${field('activationSqnr', 'SQNR alone', formatSqnr(s.sqnrAloneDb), ACTIVATION_MEANING)}
    ${field('activationAccumulated', 'SQNR accumulated', formatSqnr(s.sqnrAccumulatedDb), 'Every activation and weight quantized, at this tensor: the error accumulated through the network')}
    ${field('activationClipping', 'Clipped', formatPct(s.clippingRate), 'Evaluation values outside the calibrated range: they saturate')}
    ${field('activationRange', 'Calibrated range', `[${formatNum(s.rangeMin)}, ${formatNum(s.rangeMax)}]`)}
    ${field('activationObserved', 'Observed range', `[${formatNum(s.observedMin)}, ${formatNum(s.observedMax)}]`, 'Smallest and largest value on the evaluation data')}
    ${field('activationScale', 'Scale / zero point', `${formatNum(s.scale)} / ${formatInt(s.zeroPoint)}`)}
    ${s.outlierRatio !== undefined ? field('activationOutlier', 'Outlier ratio', formatNum(s.outlierRatio), 'Largest channel absmax over the median channel absmax') : nothing}
  </div>`;
}

function channelsPart(a: ActivationDetail, exportChart: (name: ActivationChart) => void): TemplateResult {
  const { channels, grid } = a;
  if (channels.absmax.length === 0)
    return html`<p class="muted small">No per-channel ranges recorded for this activation.</p>`;
  const outliers = channels.outliers;
  return html`<div class="chart-head">
      <h3>
        Activation range per channel
        <span class="muted small" data-field="activationOutliers"
          >${countLabel(channels.absmax.length, 'channel')};
          ${
            outliers.length
              ? `${countLabel(outliers.length, 'outlier channel')} (red): ${outliers.slice(0, 8).join(', ')}${outliers.length > 8 ? '…' : ''}`
              : 'no outlier channel'
          }</span
        >
      </h3>
      <vscode-button
        secondary
        icon="desktop-download"
        @click=${() => exportChart('activationChannels')}
        title="Save as PNG"
        >PNG</vscode-button
      >
    </div>
    <p class="muted small">
      absmax per channel on the evaluation data; dotted: the median channel (${formatNum(channels.median)}); dashed: the
      calibrated clipping bound (${formatNum(Math.max(Math.abs(grid.clipMin), Math.abs(grid.clipMax)))}). One scale
      serves every channel, so a few wide channels leave the others few levels.
    </p>
    <div class="chart" data-chart="activationChannels" id="chart-activation-channels"></div>`;
}

/** The activation section of a layer's detail, when an evaluation quantized its input activation. */
export function activationSection(
  d: LayerDetail,
  exportChart: (name: ActivationChart) => void,
): TemplateResult | typeof nothing {
  const a = d.activation;
  if (!a) return nothing;
  const g = a.grid;
  return html`<section class="activation" aria-label="Input activation">
    <div class="chart-head">
      <h3>
        Input activation <code data-field="activationTensor">${a.stat.tensor}</code>
        <span class="muted small">${typeName(a.stat)}, ${countLabel(a.histogram.counts.length, 'bin')}</span>
      </h3>
      <vscode-button secondary icon="desktop-download" @click=${() => exportChart('activation')} title="Save as PNG"
        >PNG</vscode-button
      >
    </div>
    ${a.others.length ? html`<p class="muted small">Also quantized at this layer: ${a.others.join(', ')}.</p>` : nothing}
    ${fields(a)}
    <p class="muted small" data-field="activationGrid">
      ${typeName(a.stat)} grid:
      ${g.levels.length ? `${formatInt(g.levels.length)} levels, step ${formatNum(g.scale)}` : 'finer than the bins'};
      clipping range [${formatNum(g.clipMin)}, ${formatNum(g.clipMax)}] (dashed), calibrated on the calibration samples.
      ${
        a.beyondGrid > 0
          ? html`<span class="warn-text">${countLabel(a.beyondGrid, 'value')} beyond it (red): clipped.</span>`
          : 'No evaluation value lies beyond it.'
      }
    </p>
    <div class="chart" data-chart="activation" id="chart-activation"></div>
    ${channelsPart(a, exportChart)}
  </section>`;
}
