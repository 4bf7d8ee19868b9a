/** The nearest valid scheme id to a mistyped one ("int4-blok32" -> "int4-block32"), for error messages. */
import { BLOCK_SIZES, FLOAT_FORMATS, MAX_BITS, MIN_BITS } from './schemeGrammar';

/** Every scheme id the grammar accepts (88 ids). */
export function allSchemeIds(): string[] {
  const ids: string[] = [...FLOAT_FORMATS];
  const granularities = ['tensor', 'channel', ...BLOCK_SIZES.map((b) => `block${b}`)];
  for (let bits = MAX_BITS; bits >= MIN_BITS; bits--) {
    for (const g of granularities) ids.push(`int${bits}-${g}`, `int${bits}-${g}-asym`);
  }
  return ids;
}

/** Levenshtein distance (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** The valid id closest to `typo` (case-insensitive), when it is close enough to be a typo; else undefined. */
export function nearestScheme(typo: string, extra: readonly string[] = []): string | undefined {
  const wanted = typo.trim().toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const id of [...allSchemeIds(), ...extra]) {
    const d = editDistance(wanted, id);
    if (d < bestDistance) [best, bestDistance] = [id, d];
  }
  return bestDistance <= Math.max(2, Math.floor(wanted.length / 3)) ? best : undefined;
}

/** "int4-blok32: unknown quantization scheme; did you mean int4-block32?" (or the accepted forms when nothing is close). */
export function unknownSchemeText(typo: string, extra: readonly string[] = []): string {
  const near = nearestScheme(typo, extra);
  return near
    ? `${typo}: unknown quantization scheme; did you mean ${near}?`
    : `${typo}: unknown quantization scheme. Use ids like int8-channel, int4-block32, int4-block128-asym, fp16, bf16, fp8-e4m3.`;
}
