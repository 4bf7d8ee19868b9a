/** The inspector's page-level templates: loading, the model overview (collapsible sections), and the error view. */
import { html, nothing, type TemplateResult } from 'lit';
import type { ValueInfo } from '../../src/core/onnx/overview';
import { DISPLAY_LIMITS, type DisplayOverview, type OverviewPart } from '../../src/core/view/overviewDisplay';
import type { ModelState } from '../../src/protocol';
import { notAnalysedLine } from '../../src/core/view/weightInfo';
import { formatBytes, formatInt, formatShape } from '../format';

/** Actions the views can trigger. */
export interface ViewActions {
  reload(): void;
  showLog(): void;
  /** Open the full text of a part the overview shows cut. */
  showAll(part: OverviewPart): void;
  toggled(section: string, open: boolean): void;
}

/** Which collapsible sections are open, by id. */
export type OpenSections = Record<string, boolean>;

const section = (
  id: string,
  title: string,
  count: number | undefined,
  open: OpenSections,
  actions: ViewActions,
  body: TemplateResult,
): TemplateResult => html`
  <vscode-collapsible
    id=${`section-${id}`}
    title=${title}
    ?open=${open[id] ?? true}
    @vsc-collapsible-toggle=${(e: CustomEvent<{ open: boolean }>) => actions.toggled(id, e.detail.open)}
  >
    ${count === undefined ? nothing : html`<vscode-badge slot="decorations" variant="counter">${count}</vscode-badge>`}
    <div class="section-body">${body}</div>
  </vscode-collapsible>
`;

const table = (
  name: string,
  headers: string[],
  rows: string[][],
  numeric: number[] = [],
  empty = 'None',
): TemplateResult =>
  rows.length === 0
    ? html`<p class="empty" data-table-empty=${name}>${empty}</p>`
    : html`<table class="data" data-table=${name}>
        <thead>
          <tr>
            ${headers.map((h, i) => html`<th class=${numeric.includes(i) ? 'num' : ''}>${h}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (r) =>
              html`<tr>
                ${r.map((c, i) => html`<td class=${numeric.includes(i) ? 'num' : ''}>${c}</td>`)}
              </tr>`,
          )}
        </tbody>
      </table>`;

const field = (name: string, label: string, value: string, title?: string): TemplateResult => html`
  <div class="field">
    <span class="label">${label}</span><span class="value" data-field=${name} title=${title ?? value}>${value}</span>
  </div>
`;

/** A note under a part that was cut for display, with a "Show all" button; nothing if it is whole. */
function cutNote(
  o: DisplayOverview,
  part: OverviewPart,
  shown: number,
  unit: string,
  actions: ViewActions,
): TemplateResult | typeof nothing {
  const total = o.truncated?.[part];
  if (total === undefined) return nothing;
  return html`<p class="muted" data-truncated=${part}>
    Showing the first ${formatInt(shown)} of ${formatInt(total)} ${unit}.
    <vscode-button secondary data-show-all=${part} @click=${() => actions.showAll(part)}>Show all</vscode-button>
  </p>`;
}

/** The full count of a list the overview may have cut. */
const countOf = (o: DisplayOverview, part: OverviewPart, shown: unknown[]): number =>
  o.truncated?.[part] ?? shown.length;

const valueRows = (values: ValueInfo[]): string[][] => values.map((v) => [v.name, v.dtype, formatShape(v.shape)]);

/** Shown while the model is read. */
export function loadingView(fileName: string): TemplateResult {
  return html`<div class="loading">
    <vscode-progress-ring></vscode-progress-ring><span>Reading ${fileName}…</span>
  </div>`;
}

type Section = [id: string, title: string, count: number | undefined, body: TemplateResult];

/** The model overview: collapsible sections of fields and tables; `sizes` is the sizes section's body. */
export function overviewView(
  o: DisplayOverview,
  open: OpenSections,
  actions: ViewActions,
  sizes: TemplateResult,
): TemplateResult {
  return html`${overviewSections(o, sizes, actions).map(([id, title, count, body]) =>
    section(id, title, count, open, actions, body),
  )}`;
}

function overviewSections(o: DisplayOverview, sizes: TemplateResult, actions: ViewActions): Section[] {
  const opRows = o.opCounts.map((c) => [c.domain ? `${c.domain}.${c.opType}` : c.opType, formatInt(c.count)]);
  const metadataRows = o.metadata.map((m) => [m.key, m.value]);
  const opsetRows = o.opsets.map((s) => [s.domain || 'ai.onnx', String(s.version)]);
  const dtypeHeaders = ['Type', 'Tensors', 'Parameters', 'Bytes', 'Size'];
  const cut = (part: OverviewPart, body: TemplateResult, shown: number, unit: string): TemplateResult =>
    html`${body}${cutNote(o, part, shown, unit, actions)}`;
  return [
    ['model', 'Model', undefined, modelFields(o, actions)],
    [
      'opsets',
      'Opset imports',
      countOf(o, 'opsets', o.opsets),
      cut('opsets', table('opsets', ['Domain', 'Version'], opsetRows, [1]), opsetRows.length, 'opsets'),
    ],
    [
      'inputs',
      'Inputs',
      countOf(o, 'inputs', o.inputs),
      cut('inputs', table('inputs', ['Name', 'Type', 'Shape'], valueRows(o.inputs)), o.inputs.length, 'inputs'),
    ],
    [
      'outputs',
      'Outputs',
      countOf(o, 'outputs', o.outputs),
      cut('outputs', table('outputs', ['Name', 'Type', 'Shape'], valueRows(o.outputs)), o.outputs.length, 'outputs'),
    ],
    [
      'dtypes',
      'Weights by stored type',
      o.byDtype.length,
      table('dtypes', dtypeHeaders, dtypeRows(o), [1, 2, 3, 4], 'No weight tensors'),
    ],
    ['sizes', 'Size by stored type and by scheme', undefined, sizes],
    ...notAnalysedSection(o),
    [
      'ops',
      'Operators',
      countOf(o, 'opCounts', o.opCounts),
      cut('opCounts', table('ops', ['Operator', 'Nodes'], opRows, [1]), opRows.length, 'operators'),
    ],
    ...externalSection(o),
    [
      'metadata',
      'Metadata',
      countOf(o, 'metadata', o.metadata),
      cut(
        'metadata',
        table('metadata', ['Key', 'Value'], metadataRows, [], 'No metadata properties'),
        metadataRows.length,
        'properties',
      ),
    ],
  ];
}

/** Rows of the weights-by-stored-type table. */
function dtypeRows(o: DisplayOverview): string[][] {
  return o.byDtype.map((d) => [
    d.dtype,
    formatInt(d.tensors),
    formatInt(d.parameters),
    formatInt(d.bytes),
    formatBytes(d.bytes),
  ]);
}

/** The weights not analysed, grouped by reason (no section when every weight was analysed). */
function notAnalysedSection(o: DisplayOverview): Section[] {
  if (!o.notAnalysed?.length) return [];
  const body = html`<ul data-field="notAnalysed">
    ${o.notAnalysed.map((n) => html`<li>${notAnalysedLine(n)}</li>`)}
  </ul>`;
  return [['notAnalysed', 'Not analysed', o.notAnalysed.length, body]];
}

/** The external data files (no section for a model without external data). */
function externalSection(o: DisplayOverview): Section[] {
  if (o.externalFiles.length === 0) return [];
  const rows = o.externalFiles.map((f) => [f.location, formatInt(f.tensors), formatInt(f.bytes)]);
  return [
    [
      'external',
      'External data',
      o.externalFiles.length,
      table('external', ['File', 'Tensors', 'Bytes'], rows, [1, 2]),
    ],
  ];
}

function modelFields(o: DisplayOverview, actions: ViewActions): TemplateResult {
  const producer = [o.producerName, o.producerVersion].filter(Boolean).join(' ') || '(not set)';
  return html`
    <div class="fields">
      ${field('fileSize', 'File size', `${formatInt(o.fileSize)} bytes`, formatBytes(o.fileSize))}
      ${field('producer', 'Producer', producer)} ${field('irVersion', 'IR version', String(o.irVersion))}
      ${field('modelVersion', 'Model version', String(o.modelVersion))}
      ${field('domain', 'Domain', o.domain || '(not set)')} ${field('graphName', 'Graph', o.graphName || '(unnamed)')}
      ${field('nodeCount', 'Nodes', formatInt(o.nodeCount))}
      ${field('subgraphCount', 'Subgraphs', formatInt(o.subgraphCount))}
      ${field('weightCount', 'Weight tensors', formatInt(o.weightCount))}
      ${field('parameterCount', 'Parameters', formatInt(o.parameterCount))}
      ${field('weightBytes', 'Weight bytes (all initializers, biases included)', `${formatInt(o.weightBytes)} bytes`, formatBytes(o.weightBytes))}
    </div>
    ${o.docString ? html`<p class="doc" data-field="docString">${o.docString}</p>` : nothing}
    ${cutNote(o, 'docString', DISPLAY_LIMITS.docChars, 'characters of the doc string', actions)}
    ${cutNote(o, 'producer', DISPLAY_LIMITS.nameChars, 'characters of the producer', actions)}
  `;
}

/** Shown when the model cannot be read: what is wrong, the file size, where decoding stopped. */
export function errorView(state: Extract<ModelState, { status: 'error' }>, actions: ViewActions): TemplateResult {
  const { error } = state;
  return html`
    <section class="error" role="alert">
      <header class="title">
        <span class="codicon codicon-error"></span>
        <h1>Cannot open <span data-field="fileName">${state.fileName}</span></h1>
      </header>
      <p class="message" data-field="errorMessage">${error.message}</p>
      <div class="fields">
        ${field('errorCode', 'Problem', error.code)}
        ${field('fileSize', 'File size', state.fileSize === null ? 'unknown' : `${formatInt(state.fileSize)} bytes`)}
        ${error.offset === undefined ? nothing : field('errorOffset', 'Decoding stopped at', `byte ${formatInt(error.offset)}`)}
        ${error.tensor ? field('errorTensor', 'Tensor', error.tensor) : nothing}
        ${error.file ? field('errorFile', 'File', error.file) : nothing}
      </div>
      <p class="muted">The file is not modified. QuantLens re-reads it when it changes on disk.</p>
      <div class="actions">
        <vscode-button icon="refresh" @click=${actions.reload}>Try again</vscode-button>
        <vscode-button secondary icon="output" @click=${actions.showLog}>Show Log</vscode-button>
      </div>
    </section>
  `;
}
