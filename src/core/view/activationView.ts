/**
 * Activation quantization as the results view, the diagnostics and the plan quick fixes read it (issue 20): what
 * each variant does to activations and on which calibration data, the activation layers worst first with their
 * budget verdicts, and the layers whose activations break the budget or are flagged.
 */
import { effectText } from '../eval/describe';
import type {
  ActivationStat,
  CalibrationInfo,
  EvalResults,
  LayerResult,
  LayerSchemeResult,
  VariantActivations,
} from '../eval/results';
import { parseVariantScheme } from '../quant/schemes';
import { primaryEffect } from '../eval/verdict';

/**
 * When an activation is flagged without a budget verdict (heuristics, not budget limits): more than 1% of the
 * evaluation values clipped, an SQNR of its own quantization under 20 dB (8 bits of a well-calibrated range give
 * about 30-40 dB), or a channel 8x over the median channel absmax (outlier channels widen the one per-tensor scale).
 */
export const ACTIVATION_LIMITS = { clippingRate: 0.01, sqnrDb: 20, outlierRatio: 8 } as const;

/** How a calibration method reads: "minmax", "percentile 99.999". */
export function methodText(method: string, c?: { percentile?: number }): string {
  return method === 'percentile' && c?.percentile !== undefined ? `percentile ${c.percentile}` : method;
}

/** The calibration source as a phrase: the engine's "split of the evaluation data" reads "a seeded split of …". */
const sourceText = (c: Pick<CalibrationInfo, 'source'>): string => c.source.replace(/^split of /, 'a seeded split of ');

/** The calibration line at the top of the results view; undefined when nothing was calibrated. */
export function calibrationText(r: EvalResults): string | undefined {
  const c = r.calibration;
  if (!c) return undefined;
  const split = c.disjoint
    ? 'disjoint from the evaluation samples'
    : 'NOT disjoint: the calibration samples are also evaluated';
  return `Activations calibrated on ${c.samples} samples of ${sourceText(c)} (${methodText(c.method, c)}, seed ${c.seed}); ${split}.`;
}

/** Weight bits of a variant id for the "W8A8" label ('' when the id does not say: plans, model files). */
function weightBits(id: string): string {
  const weight = weightSchemeOf(id);
  const int = /^int(\d+)-/.exec(weight);
  if (int) return int[1];
  if (/^(fp16|bf16)$/.test(weight)) return '16';
  return /^fp8-/.test(weight) ? '8' : '';
}

/** A variant's activation quantization, if any (null or absent: weights only). */
export function variantActivations(v: EvalResults['variants'][number]): VariantActivations | undefined {
  return v.activations ?? undefined;
}

/** A variant's short activation tag: "float reference", "weights only", "W8A8", "W4A8", "A16" (a plan). */
export function variantActivationTag(v: EvalResults['variants'][number]): string {
  const a = variantActivations(v);
  if (v.kind === 'reference') return 'float reference';
  if (!a) return 'weights only';
  if (a.method === 'dynamic') return 'dynamic A8';
  // A QuantLens export: the weight bits of the scheme it was exported from.
  const bits = weightBits(a.exportedFrom ?? v.id);
  return `${bits ? `W${bits}` : ''}A${a.bits}${a.signed ? ' (signed)' : ''}`;
}

/** A model-file variant's activations: the calibration its export recorded, or what its graph shows. */
function fileActivationText(label: string, a: VariantActivations): string {
  const c = a.calibration;
  if (c) {
    const method = methodText(c.method, c);
    return `${label} · calibrated at export on ${c.samples} samples of ${sourceText(c)} of ${c.spec} (${method}, seed ${c.seed})`;
  }
  if (a.method === 'dynamic')
    return `${label} · activations quantized at run time (DynamicQuantizeLinear), no calibration`;
  const sites = a.sites !== undefined ? ` on ${a.sites} tensors` : '';
  return `${label} · the file quantizes activations (QuantizeLinear${sites}); its calibration data are not recorded`;
}

/** What a variant does to activations: "weights only", or "W8A8 · calibrated on 256 samples of … (minmax, seed 7, disjoint from evaluation)". */
export function variantActivationText(r: EvalResults, v: EvalResults['variants'][number]): string {
  const a = variantActivations(v);
  const label = variantActivationTag(v);
  if (!a || v.kind === 'reference') return label;
  if (a.detected !== undefined) return fileActivationText(label, a);
  const c = r.calibration;
  if (!c) return `${label} · calibration not recorded`;
  const split = c.disjoint ? 'disjoint from evaluation' : 'overlaps evaluation';
  return `${label} · calibrated on ${c.samples} samples of ${sourceText(c)} (${methodText(a.method, { percentile: a.percentile ?? c.percentile })}, seed ${c.seed}, ${split})`;
}

/** One activation layer as the results view lists it. */
export interface ActivationRow {
  stat: ActivationStat;
  /** The sensitivity layer whose node consumes the activation, when sensitivity ran. */
  layer?: LayerResult;
  /** Only this layer's activations quantized (budget verdict), when measured. */
  measured?: LayerSchemeResult;
  /** "-2.1 pp digit=3" (the measured effect on the worst slice), when measured. */
  effect?: string;
  /** Why the activation is flagged without a budget verdict (clipping, SQNR, outlier channels). */
  warnings: string[];
}

/** Heuristic warnings of one activation (ACTIVATION_LIMITS). */
export function activationWarnings(s: ActivationStat): string[] {
  const out: string[] = [];
  if (s.clippingRate > ACTIVATION_LIMITS.clippingRate)
    out.push(`clips ${(s.clippingRate * 100).toFixed(2)}% of the evaluation values`);
  if (s.sqnrAloneDb < ACTIVATION_LIMITS.sqnrDb) out.push(`SQNR ${s.sqnrAloneDb.toFixed(1)} dB alone`);
  if (s.outlierRatio !== undefined && s.outlierRatio > ACTIVATION_LIMITS.outlierRatio)
    out.push(`outlier channels (${s.outlierRatio.toFixed(1)}x the median channel)`);
  return out;
}

/** The sensitivity layer consuming an activation (by node name), if sensitivity measured it. */
export function layerOf(r: EvalResults, s: ActivationStat): LayerResult | undefined {
  return r.sensitivity?.layers.find((l) => l.layer === s.layer || l.layers.includes(s.layer));
}

/** The activation layers, worst first: measured effect when sensitivity ran, else lowest SQNR alone. */
export function activationRows(r: EvalResults): ActivationRow[] {
  const stats = r.activations ?? [];
  const rows = stats.map((stat): ActivationRow => {
    const layer = layerOf(r, stat);
    const measured = layer?.activation;
    return {
      stat,
      ...(layer ? { layer } : {}),
      ...(measured ? { measured, effect: `${effectText(r.task, measured.worst.effect)} ${measured.worst.slice}` } : {}),
      warnings: activationWarnings(stat),
    };
  });
  const effect = (x: ActivationRow): number =>
    x.measured ? primaryEffect(r.task, x.measured.worst.effect) : -Infinity;
  return rows.sort(
    (a, b) =>
      effect(b) - effect(a) ||
      a.stat.sqnrAloneDb - b.stat.sqnrAloneDb ||
      a.stat.sqnrAccumulatedDb - b.stat.sqnrAccumulatedDb,
  );
}

/** A layer whose activations break the budget (measured alone) or are flagged: a diagnostic with quick fixes. */
export interface ActivationFinding {
  /** The layer (node) consuming the activations. */
  node: string;
  /** Its sensitivity entry, when sensitivity ran. */
  layer?: LayerResult;
  /** The quantized activation inputs (empty when the results hold no per-tensor statistics). */
  tensors: string[];
  bits: number;
  /** True when quantizing only this layer's activations broke the budget. */
  breaksBudget: boolean;
  warnings: string[];
  message: string;
}

/** Activation bits of the sensitivity's activation scheme (8 when it does not say). */
function sensitivityBits(r: EvalResults): number {
  return activationBitsOf(r.sensitivity?.activationScheme ?? '') ?? 8;
}

/**
 * The activation layers to report, one per layer: budget broken (sensitivity `activation`, also when the results
 * hold no per-tensor statistics), or flagged by clipping, SQNR or outliers.
 */
export function activationFindings(r: EvalResults): ActivationFinding[] {
  const byNode = new Map<string, ActivationRow[]>();
  for (const row of activationRows(r)) byNode.set(row.stat.layer, [...(byNode.get(row.stat.layer) ?? []), row]);
  const found: Omit<ActivationFinding, 'message'>[] = [...byNode].map(([node, rows]) => ({
    node,
    ...(rows[0].layer ? { layer: rows[0].layer } : {}),
    tensors: rows.map((x) => x.stat.tensor),
    bits: rows[0].stat.bits,
    breaksBudget: rows[0].measured?.meetsBudget === false,
    warnings: rows.flatMap((x) => x.warnings.map((w) => (rows.length > 1 ? `${x.stat.tensor} ${w}` : w))),
  }));
  for (const layer of r.sensitivity?.layers ?? []) {
    if (!layer.activation || byNode.has(layer.layer) || layer.layers.some((n) => byNode.has(n))) continue;
    const breaksBudget = !layer.activation.meetsBudget;
    found.push({ node: layer.layer, layer, tensors: [], bits: sensitivityBits(r), breaksBudget, warnings: [] });
  }
  return found
    .filter((f) => f.breaksBudget || f.warnings.length > 0)
    .map((f) => {
      const m = f.layer?.activation;
      const effect = m ? `${effectText(r.task, m.worst.effect)} ${m.worst.slice}` : '';
      const why = [...(f.breaksBudget ? [`break the budget: ${effect} with only them quantized`] : []), ...f.warnings];
      const tensors = f.tensors.length ? ` (${f.tensors.join(', ')})` : '';
      return { ...f, message: `${f.bits}-bit activations of ${f.node}${tensors}: ${why.join('; ')}.` };
    });
}

/** A plan or variant id parsed (parseVariantScheme, plain `fp32` allowed); undefined when it is not one. */
function parsed(id: string): ReturnType<typeof parseVariantScheme> | undefined {
  try {
    return parseVariantScheme(id, true);
  } catch {
    return undefined;
  }
}

/** The weight scheme of a variant or plan id: `w8a8` -> `int8-channel`, `int4-block32+a8` -> `int4-block32`, `fp32+a8` -> `fp32`. */
export function weightSchemeOf(id: string): string {
  return parsed(id)?.weight ?? id.split('+')[0];
}

/** Activation bits of a variant or plan id (`w8a8`: 8, `int8-channel+a16`: 16); undefined for weight-only ids. */
export function activationBitsOf(id: string): number | undefined {
  return parsed(id)?.activation?.bits;
}

/** Whether a variant or plan id quantizes activations (`w8a8`, `…+aN…`). */
export function quantizesActivations(id: string): boolean {
  return activationBitsOf(id) !== undefined;
}

/**
 * The clipped share of an activation's evaluation values as the results table shows it: "0%" only when nothing
 * clipped, a tiny non-zero share as "<0.001%" (never "0.000%"), with the count of values beyond the clipping range
 * when it is known ("<0.001% (3 values)").
 */
export function clippingText(rate: number, beyond?: number): string {
  if (rate === 0) return '0%';
  const pct = rate * 100;
  const text = pct < 0.001 ? '<0.001%' : `${pct.toFixed(3)}%`;
  return beyond && beyond > 0 ? `${text} (${beyond} value${beyond === 1 ? '' : 's'})` : text;
}
