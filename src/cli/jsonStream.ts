/** Writes a JSON document piece by piece, so a report larger than the largest string V8 holds still prints. */

const replacer = (_key: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);

/**
 * Writes `value` exactly as `JSON.stringify(value, nonFiniteAsString, 2)` would, descending `depth` levels into
 * objects and arrays before stringifying a member at once.
 */
export function writeJson(write: (chunk: string) => void, value: unknown, depth = 3, indent = ''): void {
  const isContainer = value !== null && typeof value === 'object' && !ArrayBuffer.isView(value);
  const plain = (v: unknown): string | undefined => JSON.stringify(v, replacer, 2)?.replace(/\n/g, `\n${indent}`);
  if (!isContainer || depth === 0 || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    write(plain(value) ?? 'null');
    return;
  }
  const inner = `${indent}  `;
  const entries: [string | undefined, unknown][] = Array.isArray(value)
    ? value.map((v: unknown) => [undefined, v === undefined || typeof v === 'function' ? null : v])
    : Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) {
    write(`${open}${close}`);
    return;
  }
  write(open);
  entries.forEach(([key, v], i) => {
    write(`${i ? ',' : ''}\n${inner}${key === undefined ? '' : `${JSON.stringify(key)}: `}`);
    writeJson(write, v, depth - 1, inner);
  });
  write(`\n${indent}${close}`);
}
