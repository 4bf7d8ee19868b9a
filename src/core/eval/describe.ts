/** Metrics and effects as text, the same in the CLI, the results view and the inspector's table. */
import type { SliceMetrics, TaskKind } from './metrics';
import type { Effect } from './verdict';

/** A number with its sign: "+1.2", "-0.5"; what rounds to zero is "0.0", never "-0.0". */
export const signed = (x: number, digits = 1): string => {
  const t = x.toFixed(digits);
  if (Number(t) === 0) return t.replace(/^-/, '');
  return `${x > 0 ? '+' : ''}${t}`;
};

/** KL in one format whatever its size: "0", "2.00e-8", "1.03e-5", "4.21e-1" (nats). */
export const klText = (kl: number): string => (kl === 0 ? '0' : Number.isFinite(kl) ? kl.toExponential(2) : String(kl));

/** An SQNR in dB; an exact reconstruction (+Infinity) reads "exact", never "Infinity dB". */
export const dbText = (db: number): string =>
  Number.isFinite(db) ? `${db.toFixed(1)} dB` : db > 0 ? 'exact' : String(db);

/** A fraction as a percentage: "98.25%". */
export const percentText = (x: number, digits = 2): string => `${(x * 100).toFixed(digits)}%`;

/** "1 layer", "2 layers". */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The main number of a slice's metrics: "96.4%", "ppl 6.365", "mse 0.013", "kl 0.0024". */
export function mainValue(m: SliceMetrics | undefined): string {
  if (!m) return '';
  if (m.accuracy !== undefined) return `${(m.accuracy * 100).toFixed(1)}%`;
  if (m.perplexity !== undefined) return `ppl ${m.perplexity.toFixed(3)}`;
  if (m.mse !== undefined) return `mse ${m.mse.toPrecision(3)}`;
  return `kl ${klText(m.kl ?? 0)}`;
}

/** The change vs fp32 with its 95% CI: "-1.2 pp [-2.0, -0.4]", "+3.1% [+2.0, +4.2]". */
export function changeText(m: SliceMetrics | undefined): string {
  if (!m) return '';
  if (m.accuracyChange)
    return `${signed(m.accuracyChange.value)} pp [${signed(m.accuracyChange.low)}, ${signed(m.accuracyChange.high)}]`;
  if (m.perplexityChange)
    return `${signed(m.perplexityChange.value)}% [${signed(m.perplexityChange.low)}, ${signed(m.perplexityChange.high)}]`;
  if (m.mseChange) return `${signed(m.mseChange.value, 4)} mse`;
  return `sqnr ${dbText(m.outputSqnrDb)}`;
}

/** An effect as the task reads it: "-1.5 pp", "+16.1% ppl", "+3.0% mse", "KL 0.21". */
export function effectText(task: TaskKind, e: Effect): string {
  switch (task) {
    case 'classification':
      return `${signed(-(e.accuracyDrop ?? 0))} pp`;
    case 'language-model':
      return `${signed(e.perplexityIncrease ?? 0)}% ppl`;
    case 'regression':
      return `${signed(e.mseIncrease ?? 0)}% mse`;
    default:
      return `KL ${klText(e.kl ?? 0)}`;
  }
}

/** The label of the results' `weightBytes` row: every stored weight, biases included. */
export const WEIGHT_BYTES_LABEL = 'weight bytes (biases included)';

/** What the `weightBytes` row counts. */
export const WEIGHT_BYTES_TITLE =
  'Stored bytes of every weight of the model under each variant, biases and weights kept as float included ' +
  '(fp32 equals the inspector overview\'s "Weight bytes"); a model-file variant: every weight as the file stores it, ' +
  'scales and zero points included.';

/** `text` cut in the middle to at most `max` characters: "source=Apa…e-2.0" (slice names keep both ends). */
export function middleEllipsis(text: string, max = 24): string {
  if (text.length <= max) return text;
  const head = Math.ceil((max - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (max - 1 - head))}`;
}
