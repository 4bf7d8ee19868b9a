/** Why a (variant, slice) cell has its verdict: the metric that decided, or a slice too small to decide. Pure. */
import { klText, signed } from './describe';
import type { EvalResults, VariantResult } from './results';
import { readSlice, type Verdict, type Violation } from './verdict';

/** A cell's verdict with its reason: `smallSlice` when the slice has fewer than minSliceSize samples. */
export interface CellVerdict {
  verdict: Verdict;
  /** The reason as the cell shows it: "violated: KL 7.57e-2 > 0.05", "too few samples (13 < 20)"; '' on pass. */
  note: string;
  /** The reason in full (tooltip). */
  title: string;
  smallSlice: boolean;
}

/** A variant's stored verdict on a slice (results written before verdicts existed: violated when listed). */
export function storedVerdict(v: VariantResult, slice: string): Verdict {
  return v.verdicts?.[slice] ?? (v.violations.some((x) => x.slice === slice) ? 'violated' : 'pass');
}

/** A limit as its metric reads it: "1 pp", "0.05", "2%". */
export function limitText(metric: Violation['metric'], limit: number): string {
  if (metric === 'accuracyDrop') return `${limit} pp`;
  return metric === 'kl' ? String(limit) : `${limit}%`;
}

/** An effect of one metric: "accuracy -6.1 pp", "KL 7.57e-2", "ppl +19.4%", "MSE +3.0%". */
export function metricText(metric: Violation['metric'], value: number): string {
  switch (metric) {
    case 'accuracyDrop':
      return `accuracy ${signed(-value)} pp`;
    case 'kl':
      return `KL ${klText(value)}`;
    case 'perplexityIncrease':
      return `ppl ${signed(value)}%`;
    default:
      return `MSE ${signed(value)}%`;
  }
}

/** The reason of one limit: "KL 7.57e-2 > 0.05" (violated) or "ppl +1.9%, CI spans 2%" (noise). */
export function limitReason(x: Violation, verdict: 'violated' | 'noise'): string {
  const effect = metricText(x.metric, x.value);
  return verdict === 'violated'
    ? `${effect} > ${limitText(x.metric, x.limit)}`
    : `${effect}, CI spans ${limitText(x.metric, x.limit)}`;
}

/** The verdict of a variant on a slice with the metric that decided it (reference variants and no budget: pass). */
export function cellVerdict(r: EvalResults, v: VariantResult, slice: string, judged = true): CellVerdict {
  const verdict = judged ? storedVerdict(v, slice) : 'pass';
  const m = v.metrics[slice];
  const n = r.slices.find((s) => s.name === slice)?.n ?? m?.n ?? 0;
  const min = r.thresholds.minSliceSize;
  if (verdict === 'pass' || !m) return { verdict, note: '', title: '', smallSlice: false };
  const reading = readSlice(slice, m, r.budget, 0);
  if (n < min) {
    const over = [
      ...reading.violations.map((x) => limitReason(x, 'violated')),
      ...reading.noise.map((x) => limitReason(x, 'noise')),
    ];
    return {
      verdict,
      note: `too few samples (${n} < ${min})`,
      title:
        `Not decided: this slice has ${n} samples, fewer than the ${min} needed to decide (budget.minSliceSize)` +
        `${over.length ? `; measured ${over.join(', ')}` : ''}.`,
      smallSlice: true,
    };
  }
  if (verdict === 'violated') {
    const listed = v.violations.filter((x) => x.slice === slice);
    const reasons = (listed.length ? listed : reading.violations).map((x) => limitReason(x, 'violated'));
    return {
      verdict,
      note: `violated${reasons.length ? `: ${reasons[0]}` : ''}`,
      title: reasons.map((t) => `Budget violated: ${t}, the whole 95% CI over it`).join('\n'),
      smallSlice: false,
    };
  }
  const reasons = reading.noise.map((x) => limitReason(x, 'noise'));
  return {
    verdict,
    note: `within noise${reasons.length ? `: ${reasons[0]}` : ''}`,
    title:
      `Within noise: the 95% confidence interval of the change includes the budget (${reasons.join('; ')}), ` +
      'so this run cannot tell whether it is met. More samples would.',
    smallSlice: false,
  };
}
