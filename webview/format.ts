/** Number and shape formatting shared by the inspector views. */
import type { Dim } from '../src/core/onnx/overview';

/** An exact integer with thousands separators, e.g. 1,234,567. */
export function formatInt(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
}

/** A byte count in binary units, e.g. 1.5 MiB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** A shape as `[batch, 3, 224, 224]`; unknown dims as `?`, unknown rank as `unknown`. */
export function formatShape(shape: readonly Dim[] | null): string {
  if (shape === null) {
    return 'unknown';
  }
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}
