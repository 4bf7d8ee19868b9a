/**
 * Message values between the extension and the webview cross as JSON, which turns Infinity and NaN into null
 * (an exact fp16 reconstruction has SQNR +Infinity). Non-finite numbers travel as `{ $num: 'Infinity' }`;
 * typed arrays are passed through (VS Code transfers their buffers intact).
 */

const MARK = '$num';

/** Replaces non-finite numbers in plain data with markers (typed arrays untouched). */
export function encodeNumbers(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : { [MARK]: String(value) };
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || value instanceof ArrayBuffer)
    return value;
  if (Array.isArray(value)) return value.map(encodeNumbers);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = encodeNumbers(v);
  return out;
}

/** Restores the numbers encodeNumbers() marked. */
export function decodeNumbers(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || value instanceof ArrayBuffer)
    return value;
  if (Array.isArray(value)) return value.map(decodeNumbers);
  const entries = Object.entries(value);
  if (entries.length === 1 && entries[0][0] === MARK && typeof entries[0][1] === 'string') return Number(entries[0][1]);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) out[k] = decodeNumbers(v);
  return out;
}
