/**
 * Bounds a model overview for display (issue 18): a 10 MB doc_string or 100k metadata properties must not reach
 * the webview whole. Long strings keep their first characters, long lists their first entries; `truncated` gives
 * the full sizes, and the full text of a part is built on demand ("show all") from the overview the host holds.
 */
import type { ModelOverview, ValueInfo } from '../onnx/overview';

/** Parts of an overview that can be cut for display and shown in full on request. */
export type OverviewPart = 'docString' | 'producer' | 'metadata' | 'opCounts' | 'inputs' | 'outputs' | 'opsets';

/** An overview as sent to the webview: `truncated` holds the full length or count of each part that was cut. */
export type DisplayOverview = ModelOverview & { truncated?: Partial<Record<OverviewPart, number>> };

/** How much of an overview is sent to the webview. */
export interface DisplayLimits {
  /** Characters of the doc string. */
  docChars: number;
  /** Characters of any other string (names, producer, metadata keys and values). */
  nameChars: number;
  /** Entries of any list. */
  listItems: number;
}

/** The limits the inspector uses. */
export const DISPLAY_LIMITS: DisplayLimits = { docChars: 4096, nameChars: 256, listItems: 200 };

/** `s` cut to `max` characters (an ellipsis marks the cut). */
export function cutString(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

/** The overview bounded by `limits`; an overview within them is returned as it is. */
export function boundOverview(o: ModelOverview, limits: DisplayLimits = DISPLAY_LIMITS): DisplayOverview {
  const truncated: Partial<Record<OverviewPart, number>> = {};
  const n = limits.nameChars;
  const list = <T>(part: OverviewPart, items: T[], map: (item: T) => T): T[] => {
    const cut = items.length > limits.listItems;
    if (cut) truncated[part] = items.length;
    const kept = cut ? items.slice(0, limits.listItems) : items;
    return kept.map(map);
  };
  const str = (part: OverviewPart, s: string, max: number): string => {
    if (s.length > max) truncated[part] = Math.max(truncated[part] ?? 0, s.length);
    return cutString(s, max);
  };
  const value = (v: ValueInfo): ValueInfo => ({
    ...v,
    name: cutString(v.name, n),
    shape: v.shape && v.shape.map((d) => (typeof d === 'string' ? cutString(d, n) : d)),
  });
  const bounded: DisplayOverview = {
    ...o,
    producerName: str('producer', o.producerName, n),
    producerVersion: str('producer', o.producerVersion, n),
    domain: cutString(o.domain, n),
    graphName: cutString(o.graphName, n),
    docString: str('docString', o.docString, limits.docChars),
    opsets: list('opsets', o.opsets, (s) => ({ ...s, domain: cutString(s.domain, n) })),
    inputs: list('inputs', o.inputs, value),
    outputs: list('outputs', o.outputs, value),
    opCounts: list('opCounts', o.opCounts, (c) => ({
      ...c,
      opType: cutString(c.opType, n),
      domain: cutString(c.domain, n),
    })),
    metadata: list('metadata', o.metadata, (m) => ({ key: cutString(m.key, n), value: cutString(m.value, n) })),
    externalFiles: o.externalFiles.map((f) => ({ ...f, location: cutString(f.location, n) })),
    byDtype: o.byDtype,
  };
  if (Object.keys(truncated).length > 0) bounded.truncated = truncated;
  return bounded;
}

const formatShapeText = (shape: ValueInfo['shape']): string =>
  shape === null ? 'unknown' : `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;

/** The full text of one part of the overview (for "show all"), one entry per line, tab-separated fields. */
export function overviewPartText(o: ModelOverview, part: OverviewPart): string {
  const lines = (rows: string[][]): string => rows.map((r) => r.join('\t')).join('\n');
  const values = (v: ValueInfo[]): string => lines(v.map((x) => [x.name, x.dtype, formatShapeText(x.shape)]));
  switch (part) {
    case 'docString':
      return o.docString;
    case 'producer':
      return [o.producerName, o.producerVersion].filter(Boolean).join(' ');
    case 'metadata':
      return lines(o.metadata.map((m) => [m.key, m.value]));
    case 'opCounts':
      return lines(o.opCounts.map((c) => [c.domain ? `${c.domain}.${c.opType}` : c.opType, String(c.count)]));
    case 'inputs':
      return values(o.inputs);
    case 'outputs':
      return values(o.outputs);
    case 'opsets':
      return lines(o.opsets.map((s) => [s.domain || 'ai.onnx', String(s.version)]));
  }
}

/** Lines [offset, offset + limit) of a part's full text, and how many lines it has (paging "show all"). */
export function overviewPartPage(
  o: ModelOverview,
  part: OverviewPart,
  offset: number,
  limit: number,
): { lines: string[]; total: number } {
  const all = overviewPartText(o, part).split('\n');
  const start = Math.max(0, Math.min(offset, all.length));
  return { lines: all.slice(start, start + Math.max(0, limit)), total: all.length };
}
