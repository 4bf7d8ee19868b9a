/** Pure statistics of the cost measurement: percentiles, rounds pooled, ratios to fp32 with their spread. */
import type { CostRatios, CostSample, LatencyEntry, ModelCost, Ratio } from './costTypes';

/** The q-quantile (0..1) of sorted values, linearly interpolated. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/** The median of values. */
export const median = (values: readonly number[]): number =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

/** Latency entry of per-run times at one batch size. */
export function latencyStats(times: readonly number[], batch: number): LatencyEntry {
  const sorted = [...times].sort((a, b) => a - b);
  const meanMs = sorted.reduce((s, t) => s + t, 0) / sorted.length;
  return {
    p50Ms: quantile(sorted, 0.5),
    p90Ms: quantile(sorted, 0.9),
    p99Ms: quantile(sorted, 0.99),
    meanMs,
    // At the median run time: one hiccup of a shared machine moves the mean, not the median.
    samplesPerSec: (batch * 1000) / quantile(sorted, 0.5),
    runs: sorted.length,
  };
}

/** One model's cost from its rounds: times pooled per batch size, session and memory as medians. */
export function modelCost(
  samples: readonly CostSample[],
  setup: Pick<ModelCost, 'threads' | 'provider' | 'sessionOptions'>,
): ModelCost {
  const latency: Record<string, LatencyEntry> = {};
  for (const batch of Object.keys(samples[0]?.latency ?? {})) {
    const rounds = samples.map((s) => s.latency[batch]);
    const skipped = rounds.find((r) => 'skipped' in r);
    latency[batch] =
      skipped && 'skipped' in skipped
        ? { skipped: skipped.skipped }
        : latencyStats(
            rounds.flatMap((r) => ('times' in r ? r.times : [])),
            Number(batch),
          );
  }
  return {
    fileBytes: samples[0]?.fileBytes ?? 0,
    sessionMs: median(samples.map((s) => s.sessionMs)),
    peakRssBytes: median(samples.map((s) => s.peakRssBytes)),
    ...setup,
    latency,
    rounds: samples.length,
  };
}

/** A ratio pooled (value) and per round (low, high): `of` reads a round's figure, `pooled` the pooled one. */
function ratio(value: number, perRound: readonly number[]): Ratio {
  const finite = perRound.filter((r) => Number.isFinite(r));
  return {
    value,
    low: finite.length > 0 ? Math.min(...finite) : value,
    high: finite.length > 0 ? Math.max(...finite) : value,
  };
}

const p50 = (times: readonly number[]): number =>
  quantile(
    [...times].sort((a, b) => a - b),
    0.5,
  );

/** Per round k, a's figure over b's (rounds interleaved A B A B: round k of both ran side by side). */
function perRound(a: readonly CostSample[], b: readonly CostSample[], of: (s: CostSample) => number): number[] {
  return a.slice(0, b.length).map((s, k) => of(s) / of(b[k]));
}

function roundTimes(s: CostSample, batch: string): number[] | undefined {
  const entry = s.latency[batch];
  return entry && 'times' in entry ? entry.times : undefined;
}

/** Ratios of a variant's cost to fp32's, each with its spread over the rounds. */
export function costRatios(
  variant: ModelCost,
  variantSamples: readonly CostSample[],
  fp32: ModelCost,
  fp32Samples: readonly CostSample[],
): CostRatios {
  const latency: CostRatios['latency'] = {};
  for (const [batch, entry] of Object.entries(variant.latency)) {
    const ref = fp32.latency[batch];
    if (entry.p50Ms === undefined || ref?.p50Ms === undefined) continue;
    const rounds = variantSamples.map((s, k) => [
      roundTimes(s, batch),
      fp32Samples[k] && roundTimes(fp32Samples[k], batch),
    ]);
    const paired = rounds.filter((r): r is [number[], number[]] => !!r[0] && !!r[1]);
    latency[batch] = {
      p50Ms: ratio(
        entry.p50Ms / ref.p50Ms,
        paired.map(([v, f]) => p50(v) / p50(f)),
      ),
      samplesPerSec: ratio(
        entry.samplesPerSec! / ref.samplesPerSec!,
        paired.map(([v, f]) => p50(f) / p50(v)),
      ),
    };
  }
  return {
    fileBytes: variant.fileBytes / fp32.fileBytes,
    sessionMs: ratio(
      variant.sessionMs / fp32.sessionMs,
      perRound(variantSamples, fp32Samples, (s) => s.sessionMs),
    ),
    peakRssBytes: ratio(
      variant.peakRssBytes / fp32.peakRssBytes,
      perRound(variantSamples, fp32Samples, (s) => s.peakRssBytes),
    ),
    latency,
  };
}

/** Where a variant costs more than fp32, in plain words (a "quantized" model can be slower or bigger). */
export function worseThanFp32(ratios: CostRatios): string[] {
  const worse: string[] = [];
  for (const [batch, r] of Object.entries(ratios.latency)) {
    if (r.p50Ms.value > 1.05) worse.push(`slower than fp32 at batch ${batch}: p50 x${r.p50Ms.value.toFixed(2)}`);
  }
  if (ratios.peakRssBytes.value > 1.05)
    worse.push(`uses more memory than fp32: peak RSS x${ratios.peakRssBytes.value.toFixed(2)}`);
  if (ratios.fileBytes > 1) worse.push(`its file is larger than fp32's: x${ratios.fileBytes.toFixed(2)}`);
  if (ratios.sessionMs.value > 1.5) worse.push(`loads slower than fp32: x${ratios.sessionMs.value.toFixed(2)}`);
  return worse;
}
