/**
 * Zeroed temporary typed arrays reused from call to call within one thread. Block schemes need several
 * per-group arrays per tensor (512 Ki groups for a 4096 x 4096 weight at block 32); fresh ones per tensor
 * pile up as garbage faster than the collector frees them and inflate resident memory. Only for arrays that
 * never leave the function that takes them: the next call with the same slot overwrites them.
 */
class Scratch {
  private readonly f32: Float32Array[] = [];
  private readonly f64: Float64Array[] = [];

  /** A zeroed Float32Array of length n in `slot`. */
  float32(slot: number, n: number): Float32Array {
    if ((this.f32[slot]?.length ?? -1) < n) this.f32[slot] = new Float32Array(n);
    const view = this.f32[slot].subarray(0, n);
    view.fill(0);
    return view;
  }

  /** A zeroed Float64Array of length n in `slot`. */
  float64(slot: number, n: number): Float64Array {
    if ((this.f64[slot]?.length ?? -1) < n) this.f64[slot] = new Float64Array(n);
    const view = this.f64[slot].subarray(0, n);
    view.fill(0);
    return view;
  }
}

/** This thread's scratch arrays. Slots: float32 0-1 intParams (the analysis kernels have memory of their own). */
export const scratch = new Scratch();
