/**
 * Collapse: a variant whose predictions no longer follow the model (int2 predicting one class for everything).
 * Its "gains" are artefacts: the class it predicts for everything reads +28 pp although nothing got better.
 * The results record agreement with fp32 per slice, not the prediction distribution, so collapse is read from
 * agreement: a variant agreeing with fp32 on fewer than COLLAPSE_AGREEMENT of all samples has collapsed.
 */
import type { SliceMetrics } from './metrics';

/** Below this top-1 agreement with fp32 on all samples, a variant counts as collapsed. */
export const COLLAPSE_AGREEMENT = 0.5;

/** Whether a variant's predictions collapsed (its agreement with fp32 on all samples is under COLLAPSE_AGREEMENT). */
export function isCollapsed(all: SliceMetrics | undefined): boolean {
  return all?.agreement !== undefined && all.agreement < COLLAPSE_AGREEMENT;
}

/** Whether a slice's metrics improve on fp32 (accuracy up, perplexity or MSE down). */
export function isGain(m: SliceMetrics | undefined): boolean {
  if (!m) return false;
  if (m.accuracyChange) return m.accuracyChange.value > 0;
  if (m.perplexityChange) return m.perplexityChange.value < 0;
  if (m.mseChange) return m.mseChange.value < 0;
  return false;
}

/** The slices on which a variant's "gain" is an artefact of collapse (empty when it has not collapsed). */
export function collapsedGains(metrics: Record<string, SliceMetrics>): string[] {
  if (!isCollapsed(metrics.all)) return [];
  return Object.keys(metrics).filter((s) => s !== 'all' && isGain(metrics[s]));
}
