/** Plain-text lines about activations for the CLI summary: which variants quantize them, the calibration, the worst. */
import { dbText, effectText, klText, percentText } from './describe';
import type { ActivationStat, EvalResults, VariantActivations } from './results';

/** How many activation tensors and layers the summary lists. */
const WORST = 5;

/** "uint8 asymmetric, minmax" for a variant's activations. */
export function activationSchemeText(a: VariantActivations): string {
  const type = `${a.signed ? 'int' : 'uint'}${a.bits} ${a.signed ? 'symmetric' : 'asymmetric'}`;
  const method = a.method === 'percentile' && a.percentile !== undefined ? `percentile ${a.percentile}` : a.method;
  const sites = a.sites !== undefined ? `, ${a.sites} tensors` : '';
  if (a.method === 'dynamic') return `uint8 dynamic (DynamicQuantizeLinear, no calibration)${sites}`;
  const c = a.calibration;
  const file = c
    ? `, calibrated at export on ${c.samples} samples, ${c.source} of ${c.spec} (seed ${c.seed})`
    : a.detected === 'graph'
      ? ': read from the file (QuantizeLinear on activations), calibration not recorded'
      : '';
  return `${type}, ${method}${sites}${file}`;
}

/** The calibration line: samples, source, seed, method, time. */
export function calibrationText(c: NonNullable<EvalResults['calibration']>): string {
  const kept = c.disjoint ? 'kept out of the evaluation' : 'also evaluated';
  const method = c.method === 'percentile' && c.percentile !== undefined ? `percentile ${c.percentile}` : c.method;
  const time = c.ms !== undefined ? `, ${(c.ms / 1000).toFixed(2)} s` : '';
  return `Calibration: ${c.samples} samples, ${c.source} (seed ${c.seed}, ${kept}), ${method}${time}`;
}

const statRow = (s: ActivationStat): string[] => [
  s.tensor,
  s.layer,
  dbText(s.sqnrAloneDb),
  dbText(s.sqnrAccumulatedDb),
  percentText(s.clippingRate, 3),
  s.outlierRatio !== undefined ? s.outlierRatio.toFixed(1) : '',
  `[${s.observedMin.toPrecision(3)}, ${s.observedMax.toPrecision(3)}]`,
];

/** Lines for the summary (none when no variant quantizes activations). */
export function activationLines(r: EvalResults, table: (rows: string[][]) => string): string[] {
  const quantizing = r.variants.filter((v) => v.activations);
  if (quantizing.length === 0 && !r.calibration) return [];
  const weightsOnly = r.variants.filter((v) => v.kind !== 'reference' && !v.activations).map((v) => v.label);
  const out = [
    '',
    `Activations quantized: ${quantizing.map((v) => `${v.label} (${activationSchemeText(v.activations!)})`).join('; ') || 'none'}`,
    ...(weightsOnly.length ? [`Weights only (activations float): ${weightsOnly.join(', ')}`] : []),
    ...(r.calibration ? [calibrationText(r.calibration)] : []),
  ];
  const stats = [...(r.activations ?? [])].sort((a, b) => a.sqnrAccumulatedDb - b.sqnrAccumulatedDb).slice(0, WORST);
  if (stats.length > 0) {
    out.push(
      '',
      `Worst activations (${quantizing.find((v) => !v.activations!.detected)?.label ?? ''}, lowest accumulated SQNR first):`,
      table([
        ['tensor', 'layer', 'SQNR alone', 'accumulated', 'clipped', 'outliers', 'observed'],
        ...stats.map(statRow),
      ]),
      'outliers: max channel absmax / median channel absmax',
    );
  }
  const layers = (r.sensitivity?.layers ?? [])
    .filter((l) => l.activation && l.activationRank !== undefined)
    .sort((a, b) => a.activationRank! - b.activationRank!)
    .slice(0, WORST);
  if (layers.length > 0) {
    out.push(
      '',
      `Activation sensitivity (${r.sensitivity!.activationScheme}: only this layer's activations quantized (its inputs, and a model output it computes), weights float):`,
      table([
        ['rank', 'layer', 'worst effect', 'slice', 'KL (all)'],
        ...layers.map((l) => [
          String(l.activationRank),
          l.layer,
          effectText(r.task, l.activation!.worst.effect),
          l.activation!.worst.slice,
          l.activation!.metrics.all?.kl !== undefined ? klText(l.activation!.metrics.all.kl) : '',
        ]),
      ]),
    );
  }
  return out;
}
