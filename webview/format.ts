/** Number and shape formatting shared by the inspector views. */
import { bytesText } from '../src/core/bytes';
import type { Dim } from '../src/core/onnx/overview';

/** An exact integer with thousands separators, e.g. 1,234,567. */
export function formatInt(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
}

/** A byte count in binary units, e.g. 1.5 MiB. */
export function formatBytes(n: number): string {
  return bytesText(n);
}

/** A shape as `[batch, 3, 224, 224]`; unknown dims as `?`, unknown rank as `unknown`. */
export function formatShape(shape: readonly Dim[] | null): string {
  if (shape === null) {
    return 'unknown';
  }
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** A decibel value for a cell: one decimal, ∞ for exact reconstruction, — when missing. */
export function formatDb(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (v === Infinity) return '∞';
  if (v === -Infinity) return '−∞';
  return v.toFixed(1);
}

/** An SQNR with its unit for text: "12.3 dB", "∞ (exact)" when the scheme reproduces the values exactly, — when missing. */
export function formatSqnr(v: number | null | undefined): string {
  if (v === Infinity) return '∞ (exact)';
  const s = formatDb(v);
  return s === '—' ? s : `${s} dB`;
}

/** A real number with about 4 significant digits (exponent form for very small or large values). */
export function formatNum(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
  return Number(v.toPrecision(4)).toString();
}

/** A fraction as a percentage with enough digits to tell small fractions from zero. */
export function formatPct(v: number): string {
  if (v === 0) return '0%';
  const pct = v * 100;
  return pct < 0.01 ? `${pct.toExponential(1)}%` : `${pct.toFixed(pct < 1 ? 3 : 1)}%`;
}

/** The plural of a label, before any parenthesis: "output channel" -> "output channels", "row (embedding)" -> "rows (embedding)". */
export function pluralLabel(label: string): string {
  const m = /^(.*?)(\s*\(.*\))?$/.exec(label)!;
  return `${m[1]}s${m[2] ?? ''}`;
}

/** A count with its label, singular or plural: "1 output channel", "86 rows (embedding)". */
export function countLabel(n: number, label: string): string {
  return `${formatInt(n)} ${n === 1 ? label : pluralLabel(label)}`;
}
