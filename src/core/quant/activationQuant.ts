/**
 * Static activation quantization: the calibrated parameters of one activation tensor and onnxruntime's
 * QuantizeLinear / DequantizeLinear arithmetic on them (float32 division, round half to even, saturation to the
 * integer type's full range; DequantizeLinear `(q - zp) * scale` in float32). Parameters follow onnxruntime's
 * `compute_scale_zp` (quantization/quant_utils.py): the range widened to include 0, symmetric ranges made
 * `[-absmax, absmax]` with the symmetric integer range (int8: -127..127) and zero point 0.
 */
import { roundHalfEven } from './rounding';
import type { ActivationScheme } from './schemes';

/** Integer types of quantized activations. */
export type ActivationType = 'uint8' | 'int8' | 'uint16' | 'int16';

/** The calibrated quantization parameters of one activation tensor. */
export interface ActivationQuant {
  tensor: string;
  scale: number;
  zeroPoint: number;
  type: ActivationType;
  /** The calibrated range the parameters were computed from (before widening to include 0). */
  rangeMin: number;
  rangeMax: number;
}

/** ONNX element type numbers of the activation types. */
export const ACTIVATION_DTYPES: Record<ActivationType, number> = { uint8: 2, int8: 3, uint16: 4, int16: 5 };

/** The integer type of an activation scheme: unsigned asymmetric, or signed symmetric. */
export function activationType(a: Pick<ActivationScheme, 'bits' | 'signed'>): ActivationType {
  return `${a.signed ? 'int' : 'uint'}${a.bits}` as ActivationType;
}

/** The full range of an integer type: what QuantizeLinear saturates to. */
export function typeRange(type: ActivationType): { qmin: number; qmax: number } {
  const bits = type.endsWith('16') ? 16 : 8;
  return type.startsWith('u')
    ? { qmin: 0, qmax: 2 ** bits - 1 }
    : { qmin: -(2 ** (bits - 1)), qmax: 2 ** (bits - 1) - 1 };
}

/** The range parameters are computed on: symmetric types leave out the lowest value (int8: -127..127). */
function calibrationRange(type: ActivationType, symmetric: boolean): { qmin: number; qmax: number } {
  const r = typeRange(type);
  return symmetric && r.qmin < 0 ? { qmin: r.qmin + 1, qmax: r.qmax } : r;
}

/** Smallest normal float32 (numpy.finfo(float32).tiny): smaller scales become 1 with zero point 0. */
const FLOAT32_TINY = 1.1754943508222875e-38;

/** Scale and zero point of a calibrated range, as onnxruntime's compute_scale_zp computes them. */
export function activationQuantParams(
  tensor: string,
  rangeMin: number,
  rangeMax: number,
  scheme: Pick<ActivationScheme, 'bits' | 'signed'>,
): ActivationQuant {
  const type = activationType(scheme);
  const { qmin, qmax } = calibrationRange(type, scheme.signed);
  let rmin = Math.min(Math.fround(rangeMin), 0);
  let rmax = Math.max(Math.fround(rangeMax), 0);
  if (scheme.signed) {
    const absmax = Math.max(Math.abs(rmin), Math.abs(rmax));
    rmin = -absmax;
    rmax = absmax;
  }
  const scale = (rmax - rmin) / (qmax - qmin);
  if (!(scale >= FLOAT32_TINY) || !Number.isFinite(scale)) {
    return { tensor, scale: 1, zeroPoint: 0, type, rangeMin, rangeMax };
  }
  const zeroPoint = scheme.signed ? roundHalfEven((qmin + qmax) / 2) : roundHalfEven(qmin - rmin / scale);
  return {
    tensor,
    scale: Math.fround(scale),
    zeroPoint: Math.min(qmax, Math.max(qmin, zeroPoint)),
    type,
    rangeMin,
    rangeMax,
  };
}

/** QuantizeLinear of one float32 value: saturate(round_half_even(x / scale) + zeroPoint). */
export function quantizeValue(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
  const q = roundHalfEven(Math.fround(x / scale)) + zeroPoint;
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

/** QuantizeLinear of a tensor into `out` (integers stored as numbers). */
export function quantizeLinear(
  x: ArrayLike<number>,
  p: Pick<ActivationQuant, 'scale' | 'zeroPoint' | 'type'>,
  out: Int32Array = new Int32Array(x.length),
): Int32Array {
  const { qmin, qmax } = typeRange(p.type);
  const scale = Math.fround(p.scale);
  for (let i = 0; i < x.length; i++) out[i] = quantizeValue(x[i], scale, p.zeroPoint, qmin, qmax);
  return out;
}

/** DequantizeLinear of a tensor: (q - zeroPoint) * scale, rounded to float32. */
export function dequantizeLinear(
  q: ArrayLike<number>,
  p: Pick<ActivationQuant, 'scale' | 'zeroPoint'>,
  out: Float32Array = new Float32Array(q.length),
): Float32Array {
  const scale = Math.fround(p.scale);
  for (let i = 0; i < q.length; i++) out[i] = (q[i] - p.zeroPoint) * scale;
  return out;
}

/** DequantizeLinear(QuantizeLinear(x)) in one pass: what the simulated QDQ pair gives. */
export function fakeQuantizeActivation(
  x: ArrayLike<number>,
  p: Pick<ActivationQuant, 'scale' | 'zeroPoint' | 'type'>,
  out: Float32Array = new Float32Array(x.length),
): Float32Array {
  const { qmin, qmax } = typeRange(p.type);
  const scale = Math.fround(p.scale);
  for (let i = 0; i < x.length; i++)
    out[i] = (quantizeValue(x[i], scale, p.zeroPoint, qmin, qmax) - p.zeroPoint) * scale;
  return out;
}

/** The float range a set of parameters represents without clipping: [(qmin - zp) * scale, (qmax - zp) * scale]. */
export function representableRange(p: Pick<ActivationQuant, 'scale' | 'zeroPoint' | 'type'>): {
  min: number;
  max: number;
} {
  const { qmin, qmax } = typeRange(p.type);
  return { min: Math.fround((qmin - p.zeroPoint) * p.scale), max: Math.fround((qmax - p.zeroPoint) * p.scale) };
}
