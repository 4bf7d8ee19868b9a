/** The inspector's page-level templates: loading, the model overview (collapsible sections), and the error view. */
import { html, nothing, type TemplateResult } from 'lit';
import type { ModelOverview, ValueInfo } from '../../src/core/onnx/overview';
import type { ModelState } from '../../src/protocol';
import { notAnalysedLine } from '../../src/core/view/weightInfo';
import { formatBytes, formatInt, formatShape } from '../format';

/** Actions the views can trigger. */
export interface ViewActions {
  reload(): void;
  showLog(): void;
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
  o: ModelOverview,
  open: OpenSections,
  actions: ViewActions,
  sizes: TemplateResult,
): TemplateResult {
  return html`${overviewSections(o, sizes).map(([id, title, count, body]) =>
    section(id, title, count, open, actions, body),
  )}`;
}

function overviewSections(o: ModelOverview, sizes: TemplateResult): Section[] {
  const dtypeRows = o.byDtype.map((d) => [
    d.dtype,
    formatInt(d.tensors),
    formatInt(d.parameters),
    formatInt(d.bytes),
    formatBytes(d.bytes),
  ]);
  const opRows = o.opCounts.map((c) => [c.domain ? `${c.domain}.${c.opType}` : c.opType, formatInt(c.count)]);
  const externalRows = o.externalFiles.map((f) => [f.location, formatInt(f.tensors), formatInt(f.bytes)]);
  const metadataRows = o.metadata.map((m) => [m.key, m.value]);
  const opsetRows = o.opsets.map((s) => [s.domain || 'ai.onnx', String(s.version)]);
  const dtypeHeaders = ['Type', 'Tensors', 'Parameters', 'Bytes', 'Size'];
  return [
    ['model', 'Model', undefined, modelFields(o)],
    ['opsets', 'Opset imports', o.opsets.length, table('opsets', ['Domain', 'Version'], opsetRows, [1])],
    ['inputs', 'Inputs', o.inputs.length, table('inputs', ['Name', 'Type', 'Shape'], valueRows(o.inputs))],
    ['outputs', 'Outputs', o.outputs.length, table('outputs', ['Name', 'Type', 'Shape'], valueRows(o.outputs))],
    [
      'dtypes',
      'Weights by stored type',
      o.byDtype.length,
      table('dtypes', dtypeHeaders, dtypeRows, [1, 2, 3, 4], 'No weight tensors'),
    ],
    ['sizes', 'Size by stored type and by scheme', undefined, sizes],
    ...(o.notAnalysed?.length
      ? ([
          [
            'notAnalysed',
            'Not analysed',
            o.notAnalysed.length,
            html`<ul data-field="notAnalysed">
              ${o.notAnalysed.map((n) => html`<li>${notAnalysedLine(n)}</li>`)}
            </ul>`,
          ],
        ] as Section[])
      : []),
    ['ops', 'Operators', o.opCounts.length, table('ops', ['Operator', 'Nodes'], opRows, [1])],
    ...(o.externalFiles.length === 0
      ? []
      : ([
          [
            'external',
            'External data',
            o.externalFiles.length,
            table('external', ['File', 'Tensors', 'Bytes'], externalRows, [1, 2]),
          ],
        ] as Section[])),
    [
      'metadata',
      'Metadata',
      o.metadata.length,
      table('metadata', ['Key', 'Value'], metadataRows, [], 'No metadata properties'),
    ],
  ];
}

function modelFields(o: ModelOverview): TemplateResult {
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
      ${field('weightBytes', 'Weight bytes', `${formatInt(o.weightBytes)} bytes`, formatBytes(o.weightBytes))}
    </div>
    ${o.docString ? html`<p class="doc" data-field="docString">${o.docString}</p>` : nothing}
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
