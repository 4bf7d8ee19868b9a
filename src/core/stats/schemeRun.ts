/** One scheme's arrays in the kernels' memory and the kernel calls of its passes (ranges, scales, errors, reconstruction). */
import { hasGroupScales, schemeBlockSize } from '../quant/layout';
import { FP8_E4M3FN, FP8_E5M2 } from '../quant/rounding';
import { intRange, type FloatScheme, type IntScheme, type Scheme } from '../quant/schemes';
import type { KernelExports, Kernels, Views } from '../wasm/kernels';
import { cellCount, forEachBlock, type Chunk, type Geometry } from './kernelGeometry';

const KIND = { fp16: 1, bf16: 2, fp8: 3 } as const;
/** fp8 formats: parameters and the exponent clamp of the kernels' rounding (one past the largest exponent). */
export const FP8 = { 'fp8-e4m3': { f: FP8_E4M3FN, maxE: 9 }, 'fp8-e5m2': { f: FP8_E5M2, maxE: 16 } } as const;

/** One scheme laid out in kernel memory. */
export class SchemeRun {
  readonly blockSize: number;
  readonly blocks: number;
  /** Integer schemes: one scale per group (channel x block) rather than per tensor. */
  readonly grouped: boolean;
  readonly groups: number;
  readonly noise: number;
  readonly acc: number;
  readonly lo: number;
  readonly hi: number;
  readonly scales: number;
  readonly zps: number;
  /** fp8's per-tensor scale (1 in place of 0, see assembly/kernels.ts). */
  fp8Scale = 1;

  constructor(
    readonly scheme: Scheme,
    g: Geometry,
    kern: Kernels,
  ) {
    const block = schemeBlockSize(scheme, g.shape !== 'flat') ?? g.reduction;
    this.blockSize = Math.max(1, Math.min(block, g.reduction)); // (1 for an empty tensor: no blocks)
    this.blocks = Math.ceil(g.reduction / this.blockSize);
    this.grouped = hasGroupScales(scheme, g.shape !== 'flat');
    this.noise = kern.alloc(8 * cellCount(g, this.blocks));
    this.acc = kern.alloc(8 * 4);
    // Scales: per group when grouped; per tensor, repeated on every channel lane (strided) or one value.
    this.groups =
      scheme.kind !== 'int' ? 0 : this.grouped ? cellCount(g, this.blocks) : g.shape === 'strided' ? g.pad : 1;
    // Group ranges (per tensor: the one range, filled from the range pass).
    this.lo = this.groups ? kern.alloc(4 * (this.grouped ? this.groups : 1)) : 0;
    this.hi = this.groups ? kern.alloc(4 * (this.grouped ? this.groups : 1)) : 0;
    this.scales = this.groups ? kern.alloc(4 * this.groups) : 0;
    this.zps = this.groups ? kern.alloc(4 * this.groups) : 0;
  }

  /** Pass 1: widens the group ranges with a chunk. */
  groupRange(k: KernelExports, g: Geometry, c: Chunk): void {
    if (g.shape === 'strided') {
      forEachBlock(g, c, this.blockSize, (b, x, rows) =>
        k.groupRangeStrided(x, g.cols, rows, g.stride, this.lo + 4 * b * g.pad, this.hi + 4 * b * g.pad),
      );
    } else {
      const offset = 4 * c.r0 * this.blocks;
      k.groupRangeRuns(c.x, g.cols, c.r1 - c.r0, g.stride, this.blockSize, this.lo + offset, this.hi + offset);
    }
  }

  /** Between the passes: scales and zero points from the group ranges (or the tensor's range), fp8's scale. */
  choose(k: KernelExports, v: Views, min: number, max: number, finite: number): void {
    const { scheme } = this;
    if (scheme.kind === 'float') {
      if (scheme.format === 'fp8-e4m3' || scheme.format === 'fp8-e5m2') {
        this.fp8Scale = Math.fround((finite ? Math.max(-min, max) : 0) / FP8[scheme.format].f.max) || 1;
      }
      return;
    }
    const { qmin, qmax } = intRange(scheme);
    if (this.grouped) {
      k.chooseScales(scheme.symmetric, this.lo, this.hi, this.groups, qmin, qmax, this.scales, this.zps);
      return;
    }
    // Per tensor: the tensor's range (widened to 0) is the one group; its scale goes on every lane.
    v.float32(this.lo, 1)[0] = finite ? Math.min(0, min) : 0;
    v.float32(this.hi, 1)[0] = finite ? Math.max(0, max) : 0;
    k.chooseScales(scheme.symmetric, this.lo, this.hi, 1, qmin, qmax, this.scales, this.zps);
    const scales = v.float32(this.scales, this.groups);
    const zps = v.float32(this.zps, this.groups);
    scales.fill(scales[0]);
    zps.fill(zps[0]);
  }

  /** Pass 2: errors of a chunk (`checked`: the tensor has non-finite values to leave out). */
  accumulate(k: KernelExports, g: Geometry, c: Chunk, checked: boolean): void {
    if (this.scheme.kind === 'int') this.accumulateInt(k, g, c, checked, this.scheme);
    else this.accumulateFloat(k, g, c, checked, this.scheme);
  }

  private accumulateInt(k: KernelExports, g: Geometry, c: Chunk, checked: boolean, scheme: IntScheme): void {
    const { acc } = this;
    const rows = c.r1 - c.r0;
    const { qmin, qmax } = intRange(scheme);
    if (g.shape === 'strided') {
      forEachBlock(g, c, this.blockSize, (b, x, n) => {
        const group = this.grouped ? 4 * b * g.pad : 0;
        k.intStrided(
          checked,
          x,
          g.cols,
          n,
          g.stride,
          this.scales + group,
          this.zps + group,
          this.noise + 8 * b * g.pad,
          qmin,
          qmax,
          acc,
        );
      });
    } else if (g.shape === 'runs') {
      const group = this.grouped ? 4 * c.r0 * this.blocks : 0;
      k.intRuns(
        checked,
        c.x,
        g.cols,
        rows,
        g.stride,
        this.blockSize,
        this.scales + group,
        this.zps + group,
        this.grouped ? 4 : 0,
        this.noise + 8 * c.r0 * this.blocks,
        qmin,
        qmax,
        acc,
      );
    } else {
      k.intRuns(checked, c.x, c.values, 1, c.values, c.values, this.scales, this.zps, 0, this.noise, qmin, qmax, acc);
    }
  }

  private accumulateFloat(k: KernelExports, g: Geometry, c: Chunk, checked: boolean, scheme: FloatScheme): void {
    const { acc } = this;
    const rows = c.r1 - c.r0;
    const [kind, mb, minE, maxE, fmax] = floatKernel(scheme);
    if (g.shape === 'strided') {
      k.floatStrided(checked, kind, c.x, g.cols, rows, g.stride, mb, minE, maxE, fmax, this.fp8Scale, this.noise, acc);
    } else if (g.shape === 'runs') {
      k.floatRuns(
        checked,
        kind,
        c.x,
        g.cols,
        rows,
        g.stride,
        g.cols,
        mb,
        minE,
        maxE,
        fmax,
        this.fp8Scale,
        this.noise + 8 * c.r0,
        acc,
      );
    } else {
      k.floatRuns(
        checked,
        kind,
        c.x,
        c.values,
        1,
        c.values,
        c.values,
        mb,
        minE,
        maxE,
        fmax,
        this.fp8Scale,
        this.noise,
        acc,
      );
    }
  }

  /** Pass 2 of a reconstruction: writes the chunk's quantized-dequantized values at `hat` (laid out as the chunk). */
  reconstruct(k: KernelExports, g: Geometry, c: Chunk, hat: number): void {
    const { scheme } = this;
    const rows = c.r1 - c.r0;
    const out = (x: number): number => hat + (x - c.x);
    if (scheme.kind === 'int') {
      const { qmin, qmax } = intRange(scheme);
      if (g.shape === 'strided') {
        forEachBlock(g, c, this.blockSize, (b, x, n) => {
          const group = this.grouped ? 4 * b * g.pad : 0;
          k.hatStrided(
            0,
            x,
            out(x),
            g.cols,
            n,
            g.stride,
            this.scales + group,
            this.zps + group,
            qmin,
            qmax,
            0,
            0,
            0,
            0,
            1,
          );
        });
      } else if (g.shape === 'runs') {
        const group = this.grouped ? 4 * c.r0 * this.blocks : 0;
        k.hatRuns(
          0,
          c.x,
          hat,
          g.cols,
          rows,
          g.stride,
          this.blockSize,
          this.scales + group,
          this.zps + group,
          this.grouped ? 4 : 0,
          qmin,
          qmax,
          0,
          0,
          0,
          0,
          1,
        );
      } else {
        k.hatRuns(0, c.x, hat, c.values, 1, c.values, c.values, this.scales, this.zps, 0, qmin, qmax, 0, 0, 0, 0, 1);
      }
      return;
    }
    const [kind, mb, minE, maxE, fmax] = floatKernel(scheme);
    k.hatRuns(kind, c.x, hat, c.lanes, 1, c.lanes, c.lanes, 0, 0, 0, 0, 0, mb, minE, maxE, fmax, this.fp8Scale); // elementwise: layout aside
  }
}

/** A float format's kernel kind and parameters (see assembly/kernels.ts floatStrided). */
function floatKernel(scheme: FloatScheme): [kind: number, mb: number, minE: number, maxE: number, fmax: number] {
  const kind = scheme.format === 'fp16' ? KIND.fp16 : scheme.format === 'bf16' ? KIND.bf16 : KIND.fp8;
  const fp8 = scheme.format === 'fp8-e4m3' || scheme.format === 'fp8-e5m2' ? FP8[scheme.format] : undefined;
  return fp8 ? [kind, fp8.f.mantissaBits, fp8.f.minExponent, fp8.maxE, fp8.f.max] : [kind, 0, 0, 0, 0];
}
