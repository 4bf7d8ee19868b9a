/**
 * The calibration part of the check stage: which samples calibrate the activation ranges (a seeded split of
 * the evaluation data, a slice of it, or a separate source), checked like the evaluation samples, and which
 * samples are left for the evaluation.
 */
import { splitCalibration, type CalibrationSpec } from '../../core/eval/calibrationSpec';
import type { Slices } from '../../core/eval/slices';
import type { EvalSpec } from '../../core/eval/spec';
import { mulberry32 } from '../../core/random';
import { readDataset } from './data';
import { DataProblem, type Dataset } from './dataFields';
import type { Checker } from './evalCheck';
import { planInputs, type InputPlan } from './evalInputs';
import type { EvalModel } from './evalModel';

/** The calibration samples, their data and feeds. */
export interface CheckedCalibration {
  spec: CalibrationSpec;
  data: Dataset;
  inputs: InputPlan[];
  /** Indices into `data`. */
  samples: number[];
  /** For the results: `split of the evaluation data`, `slice <name>` or the source paths. */
  source: string;
  /** Whether no calibration sample is evaluated. */
  disjoint: boolean;
}

/** The split source label (the contract's `calibration.source`). */
export const SPLIT_SOURCE = 'split of the evaluation data';

/**
 * The evaluation data's samples left for evaluation (before `limit`) and, for a split, the calibration draw
 * (whenever the spec has a `calibration`: plans may quantize activations too). Adds problems to `check`.
 */
export function calibrationSplit(
  spec: EvalSpec,
  count: number,
  check: Checker,
): { pool?: number[]; calibration?: number[] } {
  const c = spec.calibration;
  if (!c || c.data !== undefined) return {};
  if (c.samples >= count) {
    check.add(
      '/calibration/samples',
      `Calibration asks for ${c.samples} samples but the data holds ${count}: the calibration samples are kept out of the evaluation, so leave some (at most ${count - 1}).`,
    );
    return {};
  }
  const { calibration, evaluation } = splitCalibration(count, c.samples, c.seed);
  return { pool: evaluation, calibration };
}

/** Reads a separate calibration source and checks its samples count; the feeds follow the spec's inputs. */
export async function separateCalibration(
  spec: EvalSpec,
  model: EvalModel,
  dir: string,
  check: Checker,
  cacheBytes?: number,
): Promise<CheckedCalibration | undefined> {
  const c = spec.calibration;
  if (!c || !Array.isArray(c.data)) return undefined;
  let data: Dataset;
  try {
    data = await readDataset(c.data, dir, c.data.length === 1, { cacheBytes });
  } catch (error) {
    if (!(error instanceof DataProblem)) throw error;
    check.add(error.pointer.replace(/^\/data/, '/calibration/data'), error.message);
    return undefined;
  }
  if (c.samples > data.count) {
    check.add(
      '/calibration/samples',
      `Calibration asks for ${c.samples} samples but its data holds ${data.count} (${c.data.map((d) => d.path).join(', ')}).`,
    );
    return undefined;
  }
  const inputs = planInputs(spec, model, data, check);
  const samples = pickFrom(
    Array.from({ length: data.count }, (_, i) => i),
    c.samples,
    c.seed,
  );
  return { spec: c, data, inputs, samples, source: c.data.map((d) => d.path).join(', '), disjoint: true };
}

/**
 * A calibration on a named slice of the evaluation data: up to `samples` of its members (seeded) calibrate,
 * the other samples are evaluated. `slicesOf` builds the spec's slices over all samples.
 */
export function sliceCalibration(
  spec: EvalSpec,
  count: number,
  slicesOf: (samples: number[]) => Slices | undefined,
  check: Checker,
): { pool?: number[]; calibration?: number[] } {
  const c = spec.calibration;
  if (!c || typeof c.data !== 'string') return {};
  const all = Array.from({ length: count }, (_, i) => i);
  const slices = slicesOf(all);
  if (!slices) return {};
  const k = slices.names.indexOf(c.data);
  if (k < 0) {
    check.add(
      '/calibration/data',
      `No slice '${c.data}' to calibrate on; the slices are ${slices.names.map((n) => `'${n}'`).join(', ')}.`,
    );
    return {};
  }
  const members = all.filter((i) => slices.of[i].includes(k));
  if (c.samples > members.length || members.length === count) {
    check.add(
      '/calibration/samples',
      members.length === count
        ? `Slice '${c.data}' holds every sample: nothing would be left to evaluate.`
        : `Calibration asks for ${c.samples} samples but slice '${c.data}' holds ${members.length}.`,
    );
    return {};
  }
  const picked = pickFrom(members, c.samples, c.seed);
  const taken = new Set(picked);
  return { calibration: picked, pool: all.filter((i) => !taken.has(i)) };
}

/** `n` of `from` drawn with `seed`, in data order. */
export function pickFrom(from: readonly number[], n: number, seed: number): number[] {
  const all = [...from];
  if (n >= all.length) return all;
  const random = mulberry32(seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, n).sort((a, b) => a - b);
}
