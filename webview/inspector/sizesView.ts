/** The sizes section of the overview: weight bytes by stored type, and the model size under each scheme. */
import { html, nothing, type TemplateResult } from 'lit';
import type { ModelOverview } from '../../src/core/onnx/overview';
import type { AnalysisStatus } from '../../src/protocol';
import { cssom } from '../cssom';
import { formatBytes, formatInt, formatPct } from '../format';

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
                  <th class="num" title="Every weight tensor, biases included">All weight bytes</th>
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
              All weights, biases included: quantizable weights at the scheme (packed values, float32 scales, packed
              zero points), the others (biases, norms) as stored. Evaluation results count only the quantized weights.
            </p>`
        : nothing
    }
  `;
}
