/**
 * Quantization plan files (`*.qplan.json`): layer -> scheme, with a default. Parsing with the location of
 * every entry (for diagnostics on the layer's line), resolution to a scheme per weight, and edits.
 */
import { applyEdits, modify } from 'jsonc-parser';
import Ajv from 'ajv';
import schema from '../../../schemas/plan.schema.json';
import { JsonText, type JsonProblem } from './jsonLocation';

/** `fp32`: leave the weight as it is. */
export const KEEP_FLOAT = 'fp32';

/** A parsed plan. */
export interface QuantPlan {
  model?: string;
  default: string;
  /** Layer or weight name -> scheme id (or fp32), in file order. */
  layers: Record<string, string>;
}

/** A weight as the plan sees it: its name and the layers (nodes) that use it. */
export interface PlanWeight {
  name: string;
  layers: readonly string[];
}

const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

/** A plan and where its entries are; `problems` lists what is wrong (the plan is unusable when non-empty). */
export interface ParsedPlan {
  plan?: QuantPlan;
  json: JsonText;
  problems: JsonProblem[];
}

/** Parses a plan's text (schema-checked; problems point at the line). */
export function parsePlan(text: string): ParsedPlan {
  const json = new JsonText(text);
  if (json.syntaxErrors.length > 0) return { json, problems: json.syntaxErrors };
  const raw = JSON.parse(text) as QuantPlan;
  if (!validate(raw)) {
    const problems = (validate.errors ?? []).map((e) => {
      if (e.keyword === 'additionalProperties') {
        const extra = (e.params as { additionalProperty: string }).additionalProperty;
        return json.problem(`${e.instancePath}/${extra}`, `Unknown property '${extra}' in the plan.`, true);
      }
      if (e.keyword === 'pattern') {
        return json.problem(
          e.instancePath,
          `Unknown scheme ${JSON.stringify(pointerValue(raw, e.instancePath))}: use an id like int8-channel, int4-block32, fp16, fp8-e4m3, int8-channel+a8 (activations too), or fp32 to keep the layer.`,
        );
      }
      if (e.keyword === 'required')
        return json.problem('', `The plan needs '${(e.params as { missingProperty: string }).missingProperty}'.`);
      return json.problem(
        e.instancePath,
        `'${e.instancePath.slice(1).replace(/\//g, '.') || 'plan'}' ${e.message ?? 'is invalid'}.`,
      );
    });
    return { json, problems };
  }
  return { plan: { model: raw.model, default: raw.default, layers: raw.layers ?? {} }, json, problems: [] };
}

function pointerValue(root: unknown, pointer: string): unknown {
  let v = root;
  for (const key of pointer.split('/').slice(1))
    v = (v as Record<string, unknown>)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')];
  return v;
}

/** JSON pointer of a layer entry. */
export const layerPointer = (layer: string): string => `/layers/${layer.replace(/~/g, '~0').replace(/\//g, '~1')}`;

/** The entry deciding a weight's scheme: the weight's own name, else its first listed layer, else the default. */
export function planEntry(plan: QuantPlan, weight: PlanWeight): { key?: string; scheme: string } {
  if (weight.name in plan.layers) return { key: weight.name, scheme: plan.layers[weight.name] };
  const layer = weight.layers.find((l) => l in plan.layers);
  return layer === undefined ? { scheme: plan.default } : { key: layer, scheme: plan.layers[layer] };
}

/** Plan keys that name neither a weight nor a layer of the model. */
export function unknownLayers(plan: QuantPlan, weights: readonly PlanWeight[]): string[] {
  const known = new Set(weights.flatMap((w) => [w.name, ...w.layers]));
  return Object.keys(plan.layers).filter((k) => !known.has(k));
}

/** The plan text with `layer` set to `scheme` (added to `layers` when absent), formatting preserved. */
export function setLayerScheme(text: string, layer: string, scheme: string): string {
  return applyEdits(text, setLayerSchemeEdits(text, layer, scheme));
}

/** Edits (offset, length, content) setting `layer` to `scheme`. */
export function setLayerSchemeEdits(
  text: string,
  layer: string,
  scheme: string,
): { offset: number; length: number; content: string }[] {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return modify(text, ['layers', layer], scheme, { formattingOptions: { insertSpaces: true, tabSize: 2, eol } });
}

/** A new plan's text: every layer listed with `scheme`. */
export function newPlanText(model: string, defaultScheme: string, layers: Record<string, string>): string {
  return `${JSON.stringify({ model, default: defaultScheme, layers }, null, 2)}\n`;
}
