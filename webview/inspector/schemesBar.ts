/** The analysis bar: the schemes compared (remove, add through the picker), progress with cancel and resume. */
import { html, nothing, type TemplateResult } from 'lit';
import type { AnalysisStatus } from '../../src/protocol';
import { analysisDoneText } from '../../src/core/view/analysisText';

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
    running: `Analysing… ${done} of ${total} tensors`,
    done: analysisDoneText({
      done,
      total,
      quantizable: status.quantizable,
      schemes: status.schemes.length,
      ms: status.ms,
    }),
    cancelled: `Cancelled after ${done} of ${total} tensors (results so far are shown)`,
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
