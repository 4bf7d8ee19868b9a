/**
 * Scoring kernels of the slice evaluation (see src/core/eval/logitScorer.ts): per output position
 * (a row of `width` float32 logits), the quantities the metrics need, in float64 as the scalar reference
 * (src/core/eval/metrics.ts) computes them, with the same handling of NaN and infinities.
 */
import { high64, low64, sum64 } from './simd';

/**
 * The constants of exp64, in memory: a splat load from memory is one instruction, where V8 builds a
 * splatted constant anew in every loop iteration. Offsets in bytes.
 */
const CONSTANTS: usize = memory.data<f64>([
  -708.0, // EXP_MIN: below it exp(x) < 2^-1021, taken as 0
  184.6649652337873, // N / ln 2 (N = 128 table entries per octave)
  6755399441055744.0, // SHIFT = 1.5 * 2^52: adding it rounds to an integer (ties to even) held in the low bits
  0.00541521234663378, // LN2N_HI = ln2_hi / N: ln 2 split as in fdlibm, so that k * LN2N_HI is exact for |k| < 2^28
  1.4907929134926466e-12, // LN2N_LO = ln2_lo / N
  // Taylor coefficients 1/n!, n = 2..5
  1.0 / 2.0, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0,
]);
const EXP_MIN_AT = 0;
const NLOG2E_AT = 8;
const SHIFT_AT = 16;
const LN2N_HI_AT = 24;
const LN2N_LO_AT = 32;
const C2_AT = 40;

/**
 * 2^(j / 128), j = 0..127, as pairs [tail, T]: T the float64 nearest the exact value and tail the rest
 * relative to T, (2^(j / 128) - T) / T (computed with 80-digit decimals), 16 bytes an entry.
 */
const EXP2_TABLE: usize = memory.data<f64>([
  0.0, 1.0, 9.447885451727066e-17, 1.0054299011128027,
  -1.507066976926039e-17, 1.0108892860517005, -5.679155082825012e-17, 1.016378314910953,
  4.9997448722726326e-17, 1.0218971486541166, -4.823683599994895e-17, 1.0274459491187637,
  7.357846871247418e-18, 1.0330248790212284, 5.773230223741951e-17, 1.0386341019613787,
  8.189317638195515e-17, 1.0442737824274138, 5.326891139980878e-17, 1.0499440858006872,
  1.6665881442326747e-18, 1.0556451783605572, -1.128113245461828e-17, 1.061377227289262,
  -7.402825309426177e-17, 1.0671404006768237, -3.578659767309563e-18, 1.0729348675259756,
  -6.170654745608695e-17, 1.0787607977571199, 2.919139999949279e-17, 1.0846183622133092,
  -2.7939114859515733e-17, 1.0905077326652577, -5.399285355184285e-17, 1.0964290818163769,
  4.776959425256223e-17, 1.102382583307841, -7.927701432338473e-17, 1.1083684117236787,
  9.341710609905046e-17, 1.1143867425958924, -5.534520675707472e-17, 1.1204377524096067,
  4.585670326662351e-17, 1.1265216186082418, 2.8582430411116143e-17, 1.1326385195987192,
  7.826573258636076e-17, 1.1387886347566916, 4.053626906769216e-17, 1.1449721444318042,
  2.823784425951061e-17, 1.1511892299529827, -7.882802262487991e-17, 1.1574400736337511,
  3.2904726646008416e-17, 1.1637248587775775, -1.5792094703347882e-18, 1.1700437696832502,
  4.721368121170128e-17, 1.1763969916502812, 1.3045277096919659e-17, 1.182784710984341,
  3.3484623336251524e-17, 1.189207115002721, 3.8611199774925664e-17, 1.1956643920398273,
  5.527550048505249e-17, 1.202156731452703, -3.927184172445234e-17, 1.2086843236265816,
  -6.346552106729483e-17, 1.215247359980469, -8.684417614865944e-17, 1.2218460329727576,
  -1.5456342819397733e-17, 1.22848053610687, -8.70763476495455e-17, 1.2351510639369334,
  3.750854201303127e-17, 1.241857812073484, -6.616854503526488e-17, 1.2486009771892048,
  -5.346099009198751e-18, 1.255380757024691, -2.443726321015018e-17, 1.2621973503942507,
  2.1023049675215714e-18, 1.2690509571917332, 7.771067937501065e-17, 1.275941778396392,
  1.3357510088834541e-17, 1.2828700160787783, 6.938291696959204e-17, 1.2898358734066657,
  1.9572585293112036e-17, 1.2968395546510096, 6.632256961675804e-17, 1.3038812651919358,
  -5.478069123926778e-17, 1.3109612115247644, -4.140839310392624e-17, 1.318079601266064,
  -2.1571477251208752e-17, 1.3252366431597413, -3.8287766552120535e-17, 1.3324325470831615,
  6.663804589232195e-17, 1.339667524053303, 2.3936187400285282e-17, 1.3469417862329458,
  5.68648095791174e-17, 1.3542555469368927, 1.1264523354521684e-18, 1.3616090206382248,
  7.007875046906994e-17, 1.3690024229745905, -5.0119214278381254e-17, 1.3764359707545302,
  -4.8923067513522756e-17, 1.383909881963832, -3.5260089953269434e-17, 1.3914243757719262,
  -6.872303720902018e-17, 1.3989796725383112, 5.001446664133532e-18, 1.4065759938190154,
  -6.835808657661922e-17, 1.4142135623730951, -1.1307344092910212e-17, 1.4218926021691656,
  -8.416011634717156e-18, 1.42961333839197, -2.9247977035436566e-17, 1.4373759974489824,
  -2.092304381843353e-17, 1.4451808069770467, -3.9778645875427124e-17, 1.4530279958490526,
  -3.833464968654295e-17, 1.460917794180647, 5.763611164480894e-17, 1.4688504333369818,
  -2.3591094770850053e-17, 1.4768261459394993, 7.260074661098575e-17, 1.4848451658727524,
  9.50689710108796e-18, 1.4929077282912648, -4.272956133839906e-17, 1.5010140696264256,
  -6.735219232374683e-17, 1.5091644275934228, -2.8396044410430936e-17, 1.5173590411982147,
  -7.226635472101257e-17, 1.5255981507445384, 5.786121003395918e-17, 1.533881997840956,
  5.1548301170786783e-17, 1.5422108254079407, -9.416257568878152e-18, 1.550584877685,
  2.4253985766689806e-17, 1.559004400237837, -6.604314051707707e-17, 1.567469639965553,
  -6.432131775424189e-18, 1.5759808451078865, -1.2204007601863921e-17, 1.5845382652524937,
  -6.336161863401293e-17, 1.593142151342267, -3.7800879246373815e-17, 1.6017927556826934,
  1.5341410053603723e-17, 1.6104903319492543, 1.2932855580427452e-17, 1.6192351351948637,
  -4.123367330661149e-17, 1.6280274218573478, 4.703083974463456e-17, 1.6368674497669644,
  -6.152602891550265e-17, 1.645755478153965, 5.827849326195279e-17, 1.6546917676561943,
  3.540948262646183e-17, 1.6636765803267364, -3.2741571320938764e-17, 1.6727101796415966,
  4.875160526227062e-17, 1.681792830507429, -5.718569790077838e-17, 1.6909247992693053,
  -4.719539664590972e-18, 1.7001063537185235, -5.773451958805706e-17, 1.709337763100463,
  -1.0772487078934056e-17, 1.718619298122478, -6.221808618533911e-17, 1.7279512309618377,
  1.821405440362259e-17, 1.7373338352737062, -6.155536546227639e-17, 1.746767386199169,
  1.685487290628973e-17, 1.7562521603732995, 5.3581249177694816e-17, 1.7657884359332727,
  3.621615935336894e-17, 1.7753764925265212, 8.588379527574144e-18, 1.785016611318935,
  1.01562190116415e-17, 1.7947090750031072, -2.869134889187244e-17, 1.804454167806624,
  -5.495118966122005e-17, 1.8142521755003989, -5.56965572431627e-17, 1.8241033854070534,
  1.790126907604513e-17, 1.8340080864093424, -3.2211766346200164e-17, 1.843966568958626,
  5.265370768556274e-17, 1.8539791250833855, 3.5089866402403033e-17, 1.864046048397789,
  -3.266924100901318e-17, 1.8741676341103, -4.3657593008079375e-17, 1.8843441790323345,
  1.7963932659833022e-17, 1.8945759815869656, 3.4300925275214166e-17, 1.9048633418176741,
  -5.545065618639427e-17, 1.9152065613971474, -5.149009745457733e-17, 1.925605943636125,
  5.336805878514151e-17, 1.9360617934922943, 3.498978661192973e-17, 1.9465744175792332,
  4.5784915277060095e-17, 1.9571441241754002, -5.241934575393899e-17, 1.9677712232331759,
  2.0414278897578303e-17, 1.978456026387951, 4.124842848606488e-18, 1.9891988469672663,
], 16);

@inline function c(offset: usize): v128 {
  return v128.load64_splat(CONSTANTS + offset);
}

/**
 * exp of two float64 lanes, x <= 709: exp(x) = 2^(k / 128) * exp(r) with k = round(x * 128 / ln 2) and
 * |r| <= ln 2 / 256 (plus rounding); 2^(k / 128) = 2^(k >> 7) * EXP2_TABLE[k & 127] (with its tail), the
 * power of two added to the table entry's exponent bits; exp(r) by its Taylor series to r^5 (truncation
 * under 6e-19 relative). The layout of fast exps (e.g. ARM's optimized-routines), under 0.6 ulp from
 * the exact value by the tests' measure against Math.exp (itself under 1 ulp). exp(x) for
 * x < -708 is 0 (Math.exp gives at most 3.3e-308 there); NaN gives NaN.
 */
@inline export function exp64(x: v128): v128 {
  const under = f64x2.lt(x, c(EXP_MIN_AT));
  const xc = f64x2.pmax(c(EXP_MIN_AT), x); // NaN becomes EXP_MIN (restored below)
  // k = round(x * N / ln 2) to nearest even by the 1.5 * 2^52 shift, whose low bits then hold k.
  const shifted = f64x2.add(f64x2.mul(xc, c(NLOG2E_AT)), c(SHIFT_AT));
  const kd = f64x2.sub(shifted, c(SHIFT_AT));
  const r = f64x2.sub(f64x2.sub(xc, f64x2.mul(kd, c(LN2N_HI_AT))), f64x2.mul(kd, c(LN2N_LO_AT)));
  const r2 = f64x2.mul(r, r);
  const hi = f64x2.add(c(C2_AT), f64x2.mul(r, c(C2_AT + 8)));
  const lo = f64x2.add(c(C2_AT + 16), f64x2.mul(r, c(C2_AT + 24)));
  // exp(x) = T 2^(k >> 7) (1 + p) with p = tail + exp(r) - 1 (the product tail (exp(r) - 1) left out is under
  // 2^-60 relative), summed as T + T p so that neither 1 + r nor 1 + tail is ever rounded.
  const k = i64x2.sub(shifted, c(SHIFT_AT));
  const e0 = v128.load(EXP2_TABLE + ((<usize>i64x2.extract_lane(k, 0) & 127) << 4));
  const e1 = v128.load(EXP2_TABLE + ((<usize>i64x2.extract_lane(k, 1) & 127) << 4));
  const tail = v128.shuffle<f64>(e0, e1, 0, 2);
  const t = v128.shuffle<f64>(e0, e1, 1, 3);
  const p = f64x2.add(f64x2.add(tail, r), f64x2.mul(r2, f64x2.add(hi, f64x2.mul(r2, lo))));
  // The table entry's exponent raised by k >> 7 (k >= -130742 for x >= -708: no underflow).
  const scale = i64x2.add(t, i64x2.shl(i64x2.shr_s(k, 7), 52));
  const result = f64x2.add(scale, f64x2.mul(scale, p));
  return v128.bitselect(v128.andnot(result, under), x, f64x2.eq(x, x));
}

/** exp of n float64 values at x into y (for the tests of exp64; n even). */
export function expArray(x: usize, n: i32, y: usize): void {
  for (let i = 0; i < n; i += 2) v128.store(y + (<usize>i << 3), exp64(v128.load(x + (<usize>i << 3))));
}

@inline function exp1(x: f64): f64 {
  return f64x2.extract_lane(exp64(f64x2.splat(x)), 0);
}

/** Per-position results written by scoreRows (float64 each). */
const RES = 7;

/** The largest of n float32 values at o as `if (x > max) max = x` finds it (NaN ignored; -Infinity if none). */
@inline function rowMax(o: usize, n: i32): f32 {
  const vecEnd = n & ~3;
  let m4 = f32x4.splat(-Infinity);
  for (let i = 0; i < vecEnd; i += 4) {
    const v = v128.load(o + (<usize>i << 2));
    m4 = v128.bitselect(v, m4, f32x4.gt(v, m4));
  }
  let mx: f32 = -Infinity;
  if (f32x4.extract_lane(m4, 0) > mx) mx = f32x4.extract_lane(m4, 0);
  if (f32x4.extract_lane(m4, 1) > mx) mx = f32x4.extract_lane(m4, 1);
  if (f32x4.extract_lane(m4, 2) > mx) mx = f32x4.extract_lane(m4, 2);
  if (f32x4.extract_lane(m4, 3) > mx) mx = f32x4.extract_lane(m4, 3);
  for (let i = vecEnd; i < n; i++) {
    const v = load<f32>(o + (<usize>i << 2));
    if (v > mx) mx = v;
  }
  return mx;
}

/** Index of the first of n float32 values at o equal to mx (0 when mx is -Infinity): the argmax. */
@inline function firstIndex(o: usize, n: i32, mx: f32): i32 {
  if (mx == -Infinity) return 0;
  const vecEnd = n & ~3;
  const target = f32x4.splat(mx);
  for (let i = 0; i < vecEnd; i += 4) {
    const hit = i32x4.bitmask(f32x4.eq(v128.load(o + (<usize>i << 2)), target));
    if (hit != 0) return i + ctz(hit);
  }
  for (let i = vecEnd; i < n; i++) {
    if (load<f32>(o + (<usize>i << 2)) == mx) return i;
  }
  return 0;
}

/**
 * fp32's rows: for each of `positions` rows of `width` float32 logits at `ref`, the probabilities
 * p_i = exp(x_i - lse) at `p` (float64) and at res + 8 * RES * position (float64): [0] max, [1] its first index,
 * [2] lse = max + log sum exp(x_i - max), [3] sum p_i (x_i - lse) over p_i != 0 (minus the entropy),
 * [4] sum x_i, [5] sum x_i^2.
 */
export function referenceRows(ref: usize, positions: i32, width: i32, p: usize, res: usize): void {
  const rowBytes = <usize>width << 2;
  const vecEnd = width & ~3;
  for (let pos = 0; pos < positions; pos++) {
    const o = ref + <usize>pos * rowBytes;
    const pp = p + (<usize>pos * rowBytes << 1);
    const mx = rowMax(o, width);
    const m = f64x2.splat(<f64>mx);
    let z = f64x2.splat(0);
    let sum = f64x2.splat(0);
    let sumSq = f64x2.splat(0);
    for (let i = 0; i < vecEnd; i += 4) {
      const v = v128.load(o + (<usize>i << 2));
      const vlo = low64(v);
      const vhi = high64(v);
      z = f64x2.add(z, f64x2.add(exp64(f64x2.sub(vlo, m)), exp64(f64x2.sub(vhi, m))));
      sum = f64x2.add(sum, f64x2.add(vlo, vhi));
      sumSq = f64x2.add(sumSq, f64x2.add(f64x2.mul(vlo, vlo), f64x2.mul(vhi, vhi)));
    }
    let zS = sum64(z);
    let sumS = sum64(sum);
    let sumSqS = sum64(sumSq);
    for (let i = vecEnd; i < width; i++) {
      const v = <f64>load<f32>(o + (<usize>i << 2));
      zS += exp1(v - <f64>mx);
      sumS += v;
      sumSqS += v * v;
    }
    const lse = <f64>mx + Math.log(zS);
    const l = f64x2.splat(lse);
    const zero = f64x2.splat(0);
    let h = f64x2.splat(0);
    for (let i = 0; i < vecEnd; i += 4) {
      const v = v128.load(o + (<usize>i << 2));
      const llo = f64x2.sub(low64(v), l);
      const lhi = f64x2.sub(high64(v), l);
      const plo = exp64(llo);
      const phi = exp64(lhi);
      v128.store(pp + (<usize>i << 3), plo);
      v128.store(pp + (<usize>i << 3), phi, 16);
      h = f64x2.add(h, f64x2.add(v128.and(f64x2.mul(plo, llo), f64x2.ne(plo, zero)), v128.and(f64x2.mul(phi, lhi), f64x2.ne(phi, zero))));
    }
    let hS = sum64(h);
    for (let i = vecEnd; i < width; i++) {
      const li = <f64>load<f32>(o + (<usize>i << 2)) - lse;
      const pi = exp1(li);
      store<f64>(pp + (<usize>i << 3), pi);
      if (pi != 0) hS += pi * li;
    }
    const at = res + (<usize>pos * RES << 3);
    store<f64>(at, <f64>mx);
    store<f64>(at, <f64>firstIndex(o, width, mx), 8);
    store<f64>(at, lse, 16);
    store<f64>(at, hS, 24);
    store<f64>(at, sumS, 32);
    store<f64>(at, sumSqS, 40);
  }
}

/**
 * Scores `positions` rows of `width` logits at `out` (float32) against fp32's rows at `ref` (float32) and
 * fp32's probabilities at `p` (float64). For each position, at res + 8 * RES * position (float64):
 * [0] max (the largest value, NaN ignored; -Infinity when there is none), [1] index of its first occurrence
 * (0 when max is -Infinity), [2] sum p_i * (x_i - max) over p_i > 0, [3] sum exp(x_i - max), [4] sum (x_i - r_i)^2 over x_i != r_i,
 * [5] sum x_i, [6] sum x_i^2.
 */
export function scoreRows(out: usize, ref: usize, p: usize, positions: i32, width: i32, res: usize): void {
  const rowBytes = <usize>width << 2;
  const vecEnd = width & ~3;
  for (let pos = 0; pos < positions; pos++) {
    const o = out + <usize>pos * rowBytes;
    const rr = ref + <usize>pos * rowBytes;
    const pp = p + (<usize>pos * rowBytes << 1);
    const mx = rowMax(o, width);
    const top = firstIndex(o, width, mx);
    // Pass 2: float64 sums.
    const m = f64x2.splat(<f64>mx);
    const zero = f64x2.splat(0);
    let dot = f64x2.splat(0);
    let z = f64x2.splat(0);
    let noise = f64x2.splat(0);
    let sum = f64x2.splat(0);
    let sumSq = f64x2.splat(0);
    for (let i = 0; i < vecEnd; i += 4) {
      const v = v128.load(o + (<usize>i << 2));
      const r = v128.load(rr + (<usize>i << 2));
      const vlo = low64(v);
      const vhi = high64(v);
      // Equal values (also equal infinities, as masked logits) add no noise.
      const same = f32x4.eq(v, r);
      const dlo = v128.andnot(f64x2.sub(vlo, low64(r)), i64x2.extend_low_i32x4_s(same));
      const dhi = v128.andnot(f64x2.sub(vhi, high64(r)), i64x2.extend_high_i32x4_s(same));
      const q = pp + (<usize>i << 3);
      // Terms with p = 0 count 0 (also where x is infinite, as in a masked logit).
      // Shifted by the max, so that the KL (Σ p log p - Σ p (x - max) + log z) does not cancel large logits.
      const slo = f64x2.sub(vlo, m);
      const shi = f64x2.sub(vhi, m);
      const plo = v128.load(q);
      const phi = v128.load(q, 16);
      const tlo = v128.and(f64x2.mul(plo, slo), f64x2.gt(plo, zero));
      const thi = v128.and(f64x2.mul(phi, shi), f64x2.gt(phi, zero));
      dot = f64x2.add(dot, f64x2.add(tlo, thi));
      z = f64x2.add(z, f64x2.add(exp64(slo), exp64(shi)));
      noise = f64x2.add(noise, f64x2.add(f64x2.mul(dlo, dlo), f64x2.mul(dhi, dhi)));
      sum = f64x2.add(sum, f64x2.add(vlo, vhi));
      sumSq = f64x2.add(sumSq, f64x2.add(f64x2.mul(vlo, vlo), f64x2.mul(vhi, vhi)));
    }
    let dotS = sum64(dot);
    let zS = sum64(z);
    let noiseS = sum64(noise);
    let sumS = sum64(sum);
    let sumSqS = sum64(sumSq);
    for (let i = vecEnd; i < width; i++) {
      const v = <f64>load<f32>(o + (<usize>i << 2));
      const ri = <f64>load<f32>(rr + (<usize>i << 2));
      const d = v == ri ? 0 : v - ri;
      const pi = load<f64>(pp + (<usize>i << 3));
      if (pi > 0) dotS += pi * (v - <f64>mx);
      zS += exp1(v - <f64>mx);
      noiseS += d * d;
      sumS += v;
      sumSqS += v * v;
    }
    const at = res + (<usize>pos * RES << 3);
    store<f64>(at, <f64>mx);
    store<f64>(at, <f64>top, 8);
    store<f64>(at, dotS, 16);
    store<f64>(at, zS, 24);
    store<f64>(at, noiseS, 32);
    store<f64>(at, sumS, 40);
    store<f64>(at, sumSqS, 48);
  }
}

/** Per-sample results written by sampleScores (float64 each). */
const ROW = 9;

/**
 * Sums scoreRows' per-position results (at `res`) into per-sample results, `positions` positions a sample:
 * for each of `rows` samples, at rowRes + 8 * ROW * row (float64): [0] sum of the positions' KL(p || q) =
 * max(0, Σ p log p - Σ p (x - max) + log z), [1] positions whose argmax is fp32's, [2] noise, [3] Σ x, [4] Σ x²,
 * [5] fp32's Σ r, [6] fp32's Σ r², and with `targets` (an int32 token index per position; 0: none) [7] the
 * summed negative log-likelihood of the targets, [8] fp32's. fp32's per-position results are at `refRes`
 * (referenceRows' layout). The positions of a sample are summed in order, as the reference (metrics.ts) does.
 */
export function sampleScores(out: usize, ref: usize, refRes: usize, res: usize, targets: usize, rows: i32, positions: i32, width: i32, rowRes: usize): void {
  for (let r = 0; r < rows; r++) {
    let kl: f64 = 0;
    let agree: f64 = 0;
    let noise: f64 = 0;
    let sum: f64 = 0;
    let sumSq: f64 = 0;
    let refSum: f64 = 0;
    let refSumSq: f64 = 0;
    let nll: f64 = 0;
    let refNll: f64 = 0;
    for (let pos = 0; pos < positions; pos++) {
      const k = r * positions + pos;
      const at = res + (<usize>k * RES << 3);
      const rat = refRes + (<usize>k * RES << 3);
      const logZ = Math.log(load<f64>(at, 24));
      kl += Math.max(0, load<f64>(rat, 24) - load<f64>(at, 16) + logZ);
      if (load<f64>(at, 8) == load<f64>(rat, 8)) agree += 1;
      noise += load<f64>(at, 32);
      sum += load<f64>(at, 40);
      sumSq += load<f64>(at, 48);
      refSum += load<f64>(rat, 32);
      refSumSq += load<f64>(rat, 40);
      if (targets != 0) {
        const t = <usize>k * <usize>width + <usize>load<i32>(targets + (<usize>k << 2));
        nll -= <f64>load<f32>(out + (t << 2)) - (load<f64>(at) + logZ);
        refNll -= <f64>load<f32>(ref + (t << 2)) - load<f64>(rat, 16);
      }
    }
    const o = rowRes + (<usize>r * ROW << 3);
    store<f64>(o, kl);
    store<f64>(o, agree, 8);
    store<f64>(o, noise, 16);
    store<f64>(o, sum, 24);
    store<f64>(o, sumSq, 32);
    store<f64>(o, refSum, 40);
    store<f64>(o, refSumSq, 48);
    store<f64>(o, nll, 56);
    store<f64>(o, refNll, 64);
  }
}
