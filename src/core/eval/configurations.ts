/**
 * The plan stage of an evaluation: the named configurations run against fp32. Each is a kind (a variant of
 * the spec, a sweep point, one layer quantized, all but one layer quantized), an id, the scheme of every
 * weight it feeds quantized (the others are fed as stored) and why it runs. A new kind of variant is a new
 * member of `Configuration` and its planner here; the run stage only reads `quantized`.
 */
import type { ActivationQuant } from '../quant/activationQuant';
import type { Layout2D } from '../quant/fakeQuant';
import { parseScheme, parseVariantScheme } from '../quant/schemes';
import {
  activationSensitivity,
  activationVariantIds,
  planActivations,
  type ActivationConfiguration,
  type ActivationPlanInput,
} from './activationConfigs';
import { schemeBytes } from '../stats/layerDetail';
import { KEEP_FLOAT, planEntry, type QuantPlan } from './plan';
import type { VariantActivations } from './results';
import type { EvalSpec } from './spec';
import { sweepSchemes } from './spec';

/** A weight the configurations vary, as planning sees it. */
export interface ConfigWeight {
  name: string;
  /** The first layer (node) using it: how diagnostics and plans name it. */
  layer: string;
  layers: readonly string[];
  op: string;
  /** Number of values. */
  size: number;
  layout?: Layout2D;
}

interface ConfigurationBase {
  /** Unique within a run: `int8-channel`, `plan:mixed.qplan.json`, `sweep:int4-channel`, `oneAtATime:int8-channel:fc1.weight`... */
  id: string;
  /** Scheme of every weight fed quantized; weights not listed are fed as stored (fp32). */
  quantized: ReadonlyMap<string, string>;
  /** Why it runs, for logs and messages. */
  why: string;
  /**
   * Activation tensors quantized (QuantizeLinear -> DequantizeLinear with these parameters); absent or empty:
   * every activation stays float (the run feeds the exact bypass).
   */
  activations?: ReadonlyMap<string, ActivationQuant>;
}

/** The fields every configuration has (activation configurations build on it). */
export type BaseConfiguration = ConfigurationBase;

/** A variant the spec lists: every weight under one scheme, a plan file, or a model file run as it is. */
export interface VariantConfiguration extends ConfigurationBase {
  kind: 'variant';
  variant: 'scheme' | 'plan' | 'file' | 'export';
  label: string;
  /** A model-file variant: its path as written (it runs in a session of its own; `quantized` is empty). */
  model?: string;
  /** A model-file variant: bytes of every weight as it stores them. */
  storedBytes?: number;
  /** A model-file variant: the onnxruntime session options it runs with. */
  sessionOptions?: Record<string, string>;
  /** An export: what it was exported from, as its metadata records (`plan:<file name>` or a scheme id). */
  exportedFrom?: string;
  /** A model-file variant that quantizes activations (read from the file). */
  fileActivations?: VariantActivations;
}

/** One point of the bit-width sweep: every weight under `scheme`. */
export interface SweepConfiguration extends ConfigurationBase {
  kind: 'sweep';
  scheme: string;
}

/** Sensitivity: only `weight` quantized under `scheme`. */
export interface OneAtATimeConfiguration extends ConfigurationBase {
  kind: 'oneAtATime';
  scheme: string;
  weight: string;
}

/** Sensitivity: every weight under `scheme` except `weight`. */
export interface LeaveOneOutConfiguration extends ConfigurationBase {
  kind: 'leaveOneOut';
  scheme: string;
  weight: string;
}

/** A configuration run and scored against fp32. */
export type Configuration =
  | VariantConfiguration
  | SweepConfiguration
  | OneAtATimeConfiguration
  | LeaveOneOutConfiguration
  | ActivationConfiguration;

/** A variant of the spec, resolved: a scheme, or a plan read from its file. */
export type ResolvedVariant = { scheme: string } | { id: string; label: string; plan: QuantPlan } | FileVariant;

/** A model-file variant, checked: `model:<path as written>` (or `export:<path>` for a QuantLens export). */
export interface FileVariant {
  id: string;
  label: string;
  kind: 'file' | 'export';
  /** The path as written in the spec. */
  model: string;
  storedBytes: number;
  sessionOptions: Record<string, string>;
  /** An export: what it was exported from, as its metadata records (`plan:<file name>` or a scheme id). */
  exportedFrom?: string;
  /** Its activation quantization, read from the file (absent: weights only). */
  fileActivations?: VariantActivations;
}

/** Whether a configuration runs a model file of its own rather than fp32's weights fed. */
export const isFileConfiguration = (c: Configuration): c is VariantConfiguration =>
  c.kind === 'variant' && c.model !== undefined;

/** The plan of a run: its configurations (in run order) and the schemes sensitivity uses. */
export interface EvalPlan {
  configurations: Configuration[];
  /** Schemes of the sweep, in order. */
  sweep: string[];
  /** Schemes of one-at-a-time sensitivity. */
  oneAtATime: string[];
  /** The most aggressive (fewest bytes) one-at-a-time scheme: it ranks the layers. */
  rankScheme?: string;
  /** Leave-one-out's scheme (the rank scheme), when asked for. */
  leaveOneOutScheme?: string;
  /** The activation variant whose activations activation sensitivity quantizes. */
  activationScheme?: string;
}

/** Stored bytes of a weight under a scheme (fp32: 4 per value). */
export function weightBytes(weight: ConfigWeight, scheme: string): number {
  return scheme === KEEP_FLOAT ? 4 * weight.size : schemeBytes(parseScheme(scheme), weight.size, weight.layout);
}

/** Stored bytes of all weights under a configuration (fp32: undefined). */
export function configurationBytes(weights: readonly ConfigWeight[], config?: Configuration): number {
  return weights.reduce((sum, w) => sum + weightBytes(w, config?.quantized.get(w.name) ?? KEEP_FLOAT), 0);
}

/** Every weight under `scheme`, but those in `except` (fp32 leaves them all as stored). */
function allUnder(weights: readonly ConfigWeight[], scheme: string, except?: string): Map<string, string> {
  return new Map(scheme === KEEP_FLOAT ? [] : weights.filter((w) => w.name !== except).map((w) => [w.name, scheme]));
}

const only = (weight: string, scheme: string): Map<string, string> =>
  new Map(scheme === KEEP_FLOAT ? [] : [[weight, scheme]]);

function variantConfiguration(
  weights: readonly ConfigWeight[],
  v: ResolvedVariant,
  activation?: ActivationPlanInput,
): VariantConfiguration {
  const config = weightConfiguration(weights, v);
  const activations = planActivations(v, activation);
  return activations ? { ...config, activations } : config;
}

function weightConfiguration(weights: readonly ConfigWeight[], v: ResolvedVariant): VariantConfiguration {
  if ('model' in v) {
    const { id, label, kind, model, storedBytes, sessionOptions, exportedFrom, fileActivations } = v;
    const why = `variant: model file ${model}`;
    const file = {
      model,
      storedBytes,
      sessionOptions,
      ...(exportedFrom !== undefined ? { exportedFrom } : {}),
      ...(fileActivations ? { fileActivations } : {}),
    };
    return { kind: 'variant', variant: kind, id, label, why, ...file, quantized: new Map() };
  }
  if ('scheme' in v) {
    const why = `variant: every weight under ${v.scheme}`;
    return {
      kind: 'variant',
      variant: 'scheme',
      id: v.scheme,
      label: v.scheme,
      why,
      quantized: allUnder(weights, parseVariantScheme(v.scheme).weight),
    };
  }
  const quantized = new Map<string, string>();
  for (const w of weights) {
    const scheme = parseVariantScheme(planEntry(v.plan, w).scheme, true).weight;
    if (scheme !== KEEP_FLOAT) quantized.set(w.name, scheme);
  }
  return { kind: 'variant', variant: 'plan', id: v.id, label: v.label, why: `variant: plan ${v.label}`, quantized };
}

/** The one-at-a-time schemes: the spec's, else its scheme variants, else int8-channel. */
function oneAtATimeSchemes(spec: Pick<EvalSpec, 'variants' | 'sensitivity'>): string[] {
  if (!spec.sensitivity) return [];
  const schemeVariants = [
    ...new Set(spec.variants.flatMap((v) => ('scheme' in v ? [parseVariantScheme(v.scheme).weight] : []))),
  ].filter((s) => s !== KEEP_FLOAT);
  return spec.sensitivity.schemes ?? (schemeVariants.length > 0 ? schemeVariants : ['int8-channel']);
}

/** Plans the configurations of a run: the variants, the sweep, one-at-a-time and leave-one-out sensitivity. */
export function planConfigurations(
  spec: Pick<EvalSpec, 'variants' | 'sweep' | 'sensitivity'>,
  variants: readonly ResolvedVariant[],
  weights: readonly ConfigWeight[],
  activation?: ActivationPlanInput,
): EvalPlan {
  const sweep = spec.sweep ? sweepSchemes(spec.sweep) : [];
  const oneAtATime = oneAtATimeSchemes(spec);
  const bytesUnder = (scheme: string): number => weights.reduce((sum, w) => sum + weightBytes(w, scheme), 0);
  const rankScheme = [...oneAtATime].sort((a, b) => bytesUnder(a) - bytesUnder(b))[0];
  const leaveOneOutScheme = spec.sensitivity && spec.sensitivity.leaveOneOut ? rankScheme : undefined;
  const configurations: Configuration[] = [
    ...variants.map((v) => variantConfiguration(weights, v, activation)),
    ...sweep.map((scheme): SweepConfiguration => ({
      kind: 'sweep',
      id: sweepId(scheme),
      scheme,
      why: `sweep: every weight under ${scheme}`,
      quantized: allUnder(weights, scheme),
    })),
    ...oneAtATime.flatMap((scheme) =>
      weights.map((w): OneAtATimeConfiguration => ({
        kind: 'oneAtATime',
        id: oneAtATimeId(scheme, w.name),
        scheme,
        weight: w.name,
        why: `sensitivity: only ${w.layer} under ${scheme}`,
        quantized: only(w.name, scheme),
      })),
    ),
    ...(leaveOneOutScheme
      ? weights.map((w): LeaveOneOutConfiguration => ({
          kind: 'leaveOneOut',
          id: leaveOneOutId(w.name),
          scheme: leaveOneOutScheme,
          weight: w.name,
          why: `sensitivity: every weight under ${leaveOneOutScheme} but ${w.layer}`,
          quantized: allUnder(weights, leaveOneOutScheme, w.name),
        }))
      : []),
  ];
  const sensitivity = spec.sensitivity
    ? activationSensitivity(weights, activation, spec.sensitivity.leaveOneOut, activationVariantIds(variants))
    : undefined;
  if (sensitivity) configurations.push(...sensitivity.configurations);
  const activationScheme = sensitivity?.scheme;
  return {
    configurations,
    sweep,
    oneAtATime,
    rankScheme,
    leaveOneOutScheme,
    ...(activationScheme ? { activationScheme } : {}),
  };
}

/** Id of the configuration quantizing only `weight` under `scheme`. */
export const oneAtATimeId = (scheme: string, weight: string): string => `oneAtATime:${scheme}:${weight}`;

/** Id of the configuration quantizing every weight but `weight`. */
export const leaveOneOutId = (weight: string): string => `leaveOneOut:${weight}`;

/** Id of a sweep point. */
export const sweepId = (scheme: string): string => `sweep:${scheme}`;
