/** Lane helpers shared by the kernels. */

/** The low two float32 lanes as float64. */
@inline export function low64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

/** The high two float32 lanes as float64. */
@inline export function high64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}

/** Sum of the two float64 lanes. */
@inline export function sum64(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}
