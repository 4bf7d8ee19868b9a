/** The inspect report as JSON, Markdown and plain text (CLI output and the extension's export). */
import type { InspectReport } from './inspectReport';
import { notAnalysedLine } from './weightInfo';

/** JSON with non-finite numbers spelled out ("Infinity", "-Infinity", "NaN"), which JSON cannot hold. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
}

const fmt = (n: number, digits = 2): string =>
  Number.isFinite(n) ? n.toFixed(digits) : n > 0 ? 'inf' : n < 0 ? '-inf' : 'nan';

/** The report as Markdown tables (model overview, then one row per weight with SQNR per scheme). */
export function toMarkdown(report: InspectReport, file: string): string {
  const m = report.model;
  const lines = [
    `# ${file}`,
    '',
    `${m.producerName} ${m.producerVersion} · IR ${m.irVersion} · opsets ${m.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')} · ` +
      `${m.nodeCount} nodes · ${m.weightCount} weights · ${m.parameterCount} parameters · ${m.weightBytes} bytes`,
    '',
    ...(report.model.notAnalysed ?? []).map((n) => `- ${notAnalysedLine(n)}`),
    ...(report.model.notAnalysed?.length ? [''] : []),
    `| weight | layer | dtype | shape | role | kind | absmax | std | kurtosis | ${report.schemes.map((s) => `${s} SQNR dB`).join(' | ')} |`,
    `|---|---|---|---|---|---|---:|---:|---:|${report.schemes.map(() => '---:').join('|')}|`,
  ];
  for (const w of report.weights) {
    const layer = w.layers.map((l) => `${l.node} (${l.op}:${l.input})`).join(', ');
    const cells = report.schemes.map((s) => (w.schemes[s] ? fmt(w.schemes[s].sqnrDb, 1) : ''));
    lines.push(
      `| ${w.name} | ${layer} | ${w.dtype} | [${w.shape.join(', ')}] | ${w.role} | ${w.kind} | ${fmt(w.stats.absmax, 4)} | ${fmt(w.stats.std, 4)} | ${fmt(w.stats.kurtosis)} | ${cells.join(' | ')} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Plain-text table for terminals. */
export function toText(report: InspectReport, file: string): string {
  const rows = report.weights.map((w) => [
    w.name,
    w.layers[0] ? `${w.layers[0].node}` : '',
    w.dtype,
    `[${w.shape.join(',')}]`,
    w.role,
    w.kind,
    ...report.schemes.map((s) => (w.schemes[s] ? fmt(w.schemes[s].sqnrDb, 1) : '-')),
  ]);
  const header = ['weight', 'layer', 'dtype', 'shape', 'role', 'kind', ...report.schemes];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i >= 6 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const m = report.model;
  return [
    `${file}: ${m.producerName} ${m.producerVersion}, IR ${m.irVersion}, ${m.nodeCount} nodes, ${m.weightCount} weights, ${m.parameterCount} parameters`,
    'SQNR in dB per scheme (higher is better; inf = exact)',
    '',
    line(header),
    ...rows.map(line),
    '',
    ...(report.model.notAnalysed ?? []).map(notAnalysedLine),
    ...(report.model.notAnalysed?.length ? [''] : []),
  ].join('\n');
}
