/** Byte counts as text, the same in the CLI, the results view and the inspector. */

/** A byte count in binary units: "512 B", "1.50 KiB", "428.0 KiB", "3.2 MiB" (2 decimals under 10). */
export function bytesText(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}
