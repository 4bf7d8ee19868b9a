/**
 * Analysis results cached per model, keyed by the size and mtime of the model and its external data files
 * plus a hash of the graph (every weight's label, type, shape, storage and layout), so reopening a model or
 * switching back to schemes already computed is instant. Bounded by bytes, least recently used first out.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { Histogram, SchemeMetrics, TensorAnalysis, TensorStats } from '../core/stats/analyze';
import type { PlannedWeight } from './analysisPlan';

/** Path, size and mtime of each file: changes when any of them is rewritten. */
export async function fileStamps(files: readonly string[]): Promise<string> {
  const stamps = await Promise.all(
    files.map(async (file) => {
      const s = await fs.stat(file);
      return `${file}\0${s.size}\0${s.mtimeMs}\0`;
    }),
  );
  return stamps.join('');
}

/** The key of a model's analysis from its files' stamps and its plan: changes when any file or the graph changes. */
export function analysisCacheKey(stamps: string, plan: readonly PlannedWeight[]): string {
  const hash = createHash('sha256');
  hash.update(stamps);
  for (const w of plan) {
    const { source, dequant, ...rest } = w;
    hash.update(JSON.stringify(rest));
    if (source?.kind === 'file') hash.update(`${source.offset}:${source.length}:${source.dtype}`);
    if (source?.kind === 'values')
      hash.update(new Uint8Array(source.values.buffer, source.values.byteOffset, source.values.byteLength));
    if (dequant)
      hash.update(
        JSON.stringify([
          Array.from(dequant.scale),
          dequant.zeroPoint ? Array.from(dequant.zeroPoint) : null,
          dequant.toFloat16,
        ]),
      );
  }
  return hash.digest('hex');
}

/** What is cached for one weight. */
export interface CachedWeight {
  stats: TensorStats;
  histogram: Histogram;
  schemes: Record<string, SchemeMetrics>;
}

const sizeOf = (w: CachedWeight): number =>
  512 +
  w.histogram.counts.byteLength +
  Object.values(w.schemes).reduce((s, m) => s + 256 + m.grid.sqnrDb.byteLength, 0);

/** LRU cache of analysis results: model key -> weight name -> stats, histogram and metrics per scheme. */
export class AnalysisCache {
  private readonly models = new Map<string, Map<string, CachedWeight>>();
  private bytes = 0;

  constructor(readonly maxBytes = 256 * 2 ** 20) {}

  /** Cached results of a weight (histogram with `bins` bins), marking the model as recently used. */
  get(key: string, weight: string, bins: number): CachedWeight | undefined {
    const model = this.models.get(key);
    if (!model) return undefined;
    this.models.delete(key);
    this.models.set(key, model);
    const hit = model.get(weight);
    return hit && hit.histogram.counts.length === bins ? hit : undefined;
  }

  /** Adds (merges) a weight's analysis. */
  put(key: string, weight: string, analysis: TensorAnalysis): CachedWeight {
    let model = this.models.get(key);
    if (!model) {
      model = new Map();
      this.models.set(key, model);
    }
    const old = model.get(weight);
    if (old) this.bytes -= sizeOf(old);
    const sameBins = old && old.histogram.counts.length === analysis.histogram.counts.length;
    const merged: CachedWeight = {
      stats: analysis.stats,
      histogram: analysis.histogram,
      schemes: { ...(sameBins ? old.schemes : {}), ...analysis.schemes },
    };
    model.set(weight, merged);
    this.bytes += sizeOf(merged);
    this.evict(key);
    return merged;
  }

  /** Bytes held. */
  get size(): number {
    return this.bytes;
  }

  /** Drops least recently used models (never the one just written) until within the bound. */
  private evict(keep: string): void {
    for (const [key, model] of this.models) {
      if (this.bytes <= this.maxBytes) return;
      if (key === keep) continue;
      for (const w of model.values()) this.bytes -= sizeOf(w);
      this.models.delete(key);
    }
  }
}
