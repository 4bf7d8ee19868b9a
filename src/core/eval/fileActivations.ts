/**
 * Whether a model-file variant quantizes activations, read from the file: a QuantLens export says so in its marker
 * (`quantlens.export`: activations quantized, the calibration they came from); any other QDQ / QOperator model
 * is recognized by its QuantizeLinear nodes on computed tensors (not on initializers: those are weights) or its
 * DynamicQuantizeLinear nodes. Pure.
 */
import type { onnx } from 'onnx-proto';
import type { ExportRecord } from '../export/marker';
import type { VariantActivations } from './results';

/** ONNX element types of activation zero points. */
const ZERO_POINT_TYPES: Record<number, { bits: number; signed: boolean }> = {
  2: { bits: 8, signed: false },
  3: { bits: 8, signed: true },
  4: { bits: 16, signed: false },
  5: { bits: 16, signed: true },
};

const isQuantize = (n: onnx.INodeProto): boolean =>
  n.opType === 'QuantizeLinear' && (!n.domain || n.domain === 'ai.onnx' || n.domain === 'com.microsoft');

/** The activation quantization of a model file, or undefined when it quantizes weights only (or nothing). */
export function fileActivations(model: onnx.IModelProto, record?: ExportRecord): VariantActivations | undefined {
  const g = model.graph ?? {};
  const initializers = new Map((g.initializer ?? []).map((t) => [t.name ?? '', t]));
  const nodes = g.node ?? [];
  // Q nodes on activations: their input is computed (or a graph input), not a stored weight.
  const onActivations = nodes.filter((n) => isQuantize(n) && !initializers.has(n.input?.[0] ?? ''));
  const dynamic = nodes.filter((n) => n.opType === 'DynamicQuantizeLinear').length;
  if (onActivations.length === 0 && dynamic === 0) return undefined;
  if (onActivations.length === 0)
    return { bits: 8, signed: false, method: 'dynamic', sites: dynamic, detected: 'graph' };
  const types = onActivations.map((n) => {
    const zp = initializers.get(n.input?.[2] ?? '');
    return ZERO_POINT_TYPES[zp?.dataType ?? 2] ?? ZERO_POINT_TYPES[2];
  });
  const widest = types.reduce((a, t) => (t.bits > a.bits ? t : a), types[0]);
  const c = record?.calibration;
  return {
    bits: widest.bits,
    signed: widest.signed,
    method: c?.method ?? 'unknown',
    ...(c?.percentile !== undefined ? { percentile: c.percentile } : {}),
    sites: record?.activations ?? onActivations.length,
    detected: record?.activations !== undefined ? 'marker' : 'graph',
    ...(typeof record?.from === 'string' ? { exportedFrom: record.from } : {}),
    ...(c ? { calibration: c } : {}),
  };
}

/** An export marker's record, parsed; undefined when it does not parse. */
export function parseExportRecord(markerValue: string | undefined): ExportRecord | undefined {
  if (markerValue === undefined) return undefined;
  try {
    const r = JSON.parse(markerValue) as unknown;
    return r && typeof r === 'object' ? (r as ExportRecord) : undefined;
  } catch {
    return undefined;
  }
}
