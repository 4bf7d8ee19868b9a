/**
 * The calibrated activations of `quantlens export --spec S` for an activation scheme or plan: the spec checked
 * as an evaluation would (its calibration samples: a seeded split of the evaluation data, a slice, or a separate
 * source), the fp32 model's activation sites measured on those samples, and each site's parameters from the
 * scheme its layer has (one scheme, or the plan entry of the site's layer; shared-scale sites follow their
 * input's).
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { splitCalibration } from '../../core/eval/calibrationSpec';
import { siteEntry } from '../../core/eval/activationConfigs';
import { parsePlan, type QuantPlan } from '../../core/eval/plan';
import { ExportError, quantizesActivations } from '../../core/export/exportPlan';
import type { ActivationQdqParams } from '../../core/export/activationQdq';
import type { ExportCalibrationRecord } from '../../core/export/marker';
import { parseVariantScheme, type ActivationScheme } from '../../core/quant/schemes';
import { checkEval, type CheckedEval } from '../eval/evalCheck';
import { batchInputs } from '../eval/evalInputs';
import { readRegularFile } from '../safeRead';
import { activationSites, type ActivationSite, type SiteOptions } from '../../core/quant/activationSites';
import { collectRanges } from '../eval/calibrate';
import { calibrateRanges, calibratedParams, type CalibratedRanges, type CalibrationBatch } from './exportCalibration';

/** What the export calibrated, for its report. */
export interface ExportCalibration {
  activations: ActivationQdqParams[];
  source: string;
  samples: number;
  method: string;
  seed: number;
  percentile?: number;
  ms: number;
}

const BATCH = 32;

/** The calibration samples of a checked spec (drawn here when no variant of the spec asked for them). */
function calibrationSamples(checked: CheckedEval, specPath: string): { c: NonNullable<CheckedEval['calibration']> } {
  if (checked.calibration) return { c: checked.calibration };
  const spec = checked.spec.calibration;
  if (!spec) {
    throw new ExportError(
      `The spec ${specPath} has no calibration block: activation scales come from calibration on your data; add "calibration": {"samples": N}.`,
    );
  }
  if (spec.data !== undefined) {
    throw new ExportError(
      `The spec ${specPath} calibrates on ${typeof spec.data === 'string' ? `slice ${spec.data}` : 'a separate source'}: list the exported activation variant in its variants so that the check reads those samples.`,
    );
  }
  const { calibration } = splitCalibration(checked.data.count, spec.samples, spec.seed);
  const c = {
    spec,
    data: checked.data,
    inputs: checked.inputs,
    samples: calibration,
    source: 'split of the evaluation data',
    disjoint: true,
  };
  return { c };
}

function* feeds(c: NonNullable<CheckedEval['calibration']>): Generator<CalibrationBatch> {
  for (let start = 0; start < c.samples.length; start += BATCH) {
    const chunk = c.samples.slice(start, start + BATCH);
    const feeds: Record<string, ort.Tensor> = {};
    for (const { input, buffer } of batchInputs(c.inputs, chunk, chunk.length)) {
      const dims = [chunk.length, ...input.dims];
      feeds[input.name] =
        buffer instanceof Float32Array
          ? new ort.Tensor('float32', buffer, dims)
          : buffer instanceof Int32Array
            ? new ort.Tensor('int32', buffer, dims)
            : new ort.Tensor('int64', buffer, dims);
    }
    yield { feeds, rows: chunk.length };
  }
}

/** The activation scheme of each site: the one scheme, or the plan entry of the site's layer. */
function schemeOfSite(
  request: { scheme: string } | { plan: QuantPlan },
): (site: ActivationSite) => ActivationScheme | undefined {
  if ('scheme' in request) {
    const a = parseVariantScheme(request.scheme, true).activation;
    return () => a;
  }
  const plan = request.plan;
  // The evaluation's rule (planActivations), so that the export quantizes what the simulation of the plan does.
  return (site) => parseVariantScheme(siteEntry(plan, site), true).activation;
}

/** The engine's calibration (src/node/eval/calibrate.ts) of the sites `options` choose. */
async function engineRanges(
  checked: CheckedEval,
  c: NonNullable<CheckedEval['calibration']>,
  options: SiteOptions & { histogram: boolean },
  signal?: AbortSignal,
): Promise<CalibratedRanges> {
  const t0 = performance.now();
  const sites = activationSites(checked.model.siteGraph, options);
  const ranges = await collectRanges(checked, c, sites, options.histogram, { signal });
  return { sites, ranges, samples: c.samples.length, ms: performance.now() - t0 };
}

/** Calibrates the activations the export of `request` quantizes, on the spec's calibration samples. */
export async function calibrateForExport(
  specPath: string,
  modelBytes: Uint8Array,
  request: { scheme: string } | { plan: QuantPlan },
  signal?: AbortSignal,
): Promise<ExportCalibration> {
  const checked = await checkEval(specPath, { signal });
  const { c } = calibrationSamples(checked, specPath);
  const schemeOf = schemeOfSite(request);
  const symmetric = 'scheme' in request && !!parseVariantScheme(request.scheme, true).activation?.signed;
  const s = checked.spec;
  const method =
    'scheme' in request
      ? (parseVariantScheme(request.scheme, true).activation?.method ?? c.spec.method)
      : c.spec.method;
  const entryMethods =
    'plan' in request
      ? [request.plan.default, ...Object.values(request.plan.layers)].map(
          (id) => parseVariantScheme(id, true).activation?.method,
        )
      : [];
  const histogram = [method, ...entryMethods].some((m) => m !== undefined && m !== 'minmax');
  const options = { exclude: s.exclude, ...s.activationSites, symmetric, histogram };
  // The model as the spec names it: the engine's own calibration (same session, batches and collectors), so the
  // export's parameters are the ones its evaluation simulates. Another model file: calibrated as it is.
  const same = checked.model.sha256 === createHash('sha256').update(modelBytes).digest('hex');
  const ranges = same
    ? await engineRanges(checked, c, options, signal)
    : await calibrateRanges(modelBytes, feeds(c), options, signal);
  const activations = calibratedParams(ranges, schemeOf, method, c.spec.percentile);
  const percentile = method === 'percentile' ? { percentile: c.spec.percentile } : {};
  return {
    activations,
    source: c.source,
    samples: ranges.samples,
    method,
    seed: c.spec.seed,
    ...percentile,
    ms: ranges.ms,
  };
}

/** A plan file's plan (the export reads and checks it again when it writes). */
export async function readPlanFile(file: string, signal?: AbortSignal): Promise<QuantPlan> {
  const text = new TextDecoder().decode(await readRegularFile(file, 64 * 2 ** 20, signal, `The plan ${file}`));
  const parsed = parsePlan(text);
  if (!parsed.plan) {
    const where = parsed.problems.map((p) => `line ${p.range.line + 1}: ${p.message}`).join('; ');
    throw new ExportError(`The plan ${file} is invalid: ${where}`);
  }
  return parsed.plan;
}

/** Whether an export request quantizes activations (`w8a8`, `+aN` ids in the scheme or any plan entry). */
export function requestQuantizesActivations(request: { scheme: string } | { plan: QuantPlan }): boolean {
  const ids = 'scheme' in request ? [request.scheme] : [request.plan.default, ...Object.values(request.plan.layers)];
  return ids.some(quantizesActivations);
}

/** The calibrated activations of an export request (none when it quantizes weights only). */
export async function calibrateExport(
  model: string,
  spec: string,
  options: { scheme?: string; plan?: string },
  signal?: AbortSignal,
): Promise<ExportCalibration | undefined> {
  const request =
    options.plan !== undefined ? { plan: await readPlanFile(options.plan, signal) } : { scheme: options.scheme ?? '' };
  if (!requestQuantizesActivations(request)) return undefined;
  const bytes = await readRegularFile(model, 2 ** 31 - 1, signal, `The model ${model}`);
  return calibrateForExport(spec, bytes, request, signal);
}

/** What an export's metadata records of its calibration. */
export function calibrationRecord(c: ExportCalibration, spec: string): ExportCalibrationRecord {
  const { source, samples, seed, method, percentile } = c;
  return {
    source,
    samples,
    seed,
    method,
    ...(percentile !== undefined ? { percentile } : {}),
    spec: path.basename(spec),
  };
}
