/**
 * The WebAssembly SIMD kernels (assembly/kernels.ts), one instance per thread, and a bump allocator over
 * their memory. Callers lay out every array of one computation with `alloc`, call `commit` (which grows the
 * memory once), then take views. The memory only grows: it is sized by the largest tensor seen, in chunks
 * of rows, never by a whole tensor.
 */
import { KERNELS_WASM_BASE64 } from './kernelsBinary.generated';

type Ptr = number;

/** The part of the WebAssembly API used here (declared locally: src/core compiles without the DOM library). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The kernels' exports (pointers are byte offsets into `memory`; see assembly/kernels.ts). */
export interface KernelExports {
  memory: WasmMemory;
  heapBase(): Ptr;
  intStrided(
    checked: boolean,
    x: Ptr,
    n: number,
    rows: number,
    stride: number,
    scales: Ptr,
    zps: Ptr,
    noise: Ptr,
    qmin: number,
    qmax: number,
    acc: Ptr,
  ): void;
  intRuns(
    checked: boolean,
    x: Ptr,
    n: number,
    rows: number,
    stride: number,
    runLen: number,
    scales: Ptr,
    zps: Ptr,
    step: number,
    noise: Ptr,
    qmin: number,
    qmax: number,
    acc: Ptr,
  ): void;
  floatStrided(
    checked: boolean,
    kind: number,
    x: Ptr,
    n: number,
    rows: number,
    stride: number,
    mb: number,
    minE: number,
    maxE: number,
    fmax: number,
    scale: number,
    noise: Ptr,
    acc: Ptr,
  ): void;
  floatRuns(
    checked: boolean,
    kind: number,
    x: Ptr,
    n: number,
    rows: number,
    stride: number,
    runLen: number,
    mb: number,
    minE: number,
    maxE: number,
    fmax: number,
    scale: number,
    noise: Ptr,
    acc: Ptr,
  ): void;
  hatStrided(
    kind: number,
    x: Ptr,
    out: Ptr,
    n: number,
    rows: number,
    stride: number,
    scales: Ptr,
    zps: Ptr,
    qmin: number,
    qmax: number,
    mb: number,
    minE: number,
    maxE: number,
    fmax: number,
    scale: number,
  ): void;
  hatRuns(
    kind: number,
    x: Ptr,
    out: Ptr,
    n: number,
    rows: number,
    stride: number,
    runLen: number,
    scales: Ptr,
    zps: Ptr,
    step: number,
    qmin: number,
    qmax: number,
    mb: number,
    minE: number,
    maxE: number,
    fmax: number,
    scale: number,
  ): void;
  chooseScales(
    symmetric: boolean,
    lo: Ptr,
    hi: Ptr,
    n: number,
    qmin: number,
    qmax: number,
    scales: Ptr,
    zps: Ptr,
  ): void;
  range(x: Ptr, n: number, acc: Ptr): void;
  minMax(x: Ptr, n: number, acc: Ptr): void;
  groupRangeStrided(x: Ptr, n: number, rows: number, stride: number, lo: Ptr, hi: Ptr): void;
  groupRangeRuns(x: Ptr, n: number, rows: number, stride: number, runLen: number, lo: Ptr, hi: Ptr): void;
  moments(
    checked: boolean,
    x: Ptr,
    n: number,
    mean: number,
    min: number,
    invWidth: number,
    counts: Ptr,
    bins: number,
    acc: Ptr,
  ): void;
  histogram(checked: boolean, x: Ptr, n: number, min: number, invWidth: number, counts: Ptr, bins: number): void;
  signalStrided(x: Ptr, n: number, rows: number, stride: number, sig: Ptr): void;
  signalRuns(x: Ptr, n: number, rows: number, stride: number, runLen: number, sig: Ptr): void;
  scoreRows(out: Ptr, ref: Ptr, p: Ptr, positions: number, width: number, res: Ptr): void;
  referenceRows(ref: Ptr, positions: number, width: number, p: Ptr, res: Ptr): void;
  sampleScores(
    out: Ptr,
    ref: Ptr,
    refRes: Ptr,
    res: Ptr,
    targets: Ptr,
    rows: number,
    positions: number,
    width: number,
    rowRes: Ptr,
  ): void;
  expArray(x: Ptr, n: number, y: Ptr): void;
}

const PAGE = 65536;
/** Every allocation is 16-byte aligned and followed by 16 spare bytes (kernels read four lanes at a time). */
const ALIGN = 16;

/** The kernels with their memory, handed out per computation. */
export class Kernels {
  readonly k: KernelExports;
  private top: Ptr;
  private readonly base: Ptr;

  constructor(bytes: Uint8Array) {
    const instance = new wasm.Instance(new wasm.Module(bytes), {
      env: {
        abort: () => {
          throw new Error('QuantLens kernel aborted');
        },
      },
    });
    this.k = instance.exports as unknown as KernelExports;
    this.base = Math.ceil(this.k.heapBase() / ALIGN) * ALIGN;
    this.top = this.base;
  }

  /** Starts a new layout (earlier pointers and views become invalid). */
  reset(): void {
    this.top = this.base;
  }

  /** Reserves `bytes` (rounded up, plus spare) and returns the pointer. */
  alloc(bytes: number): Ptr {
    const ptr = this.top;
    this.top += Math.ceil(bytes / ALIGN) * ALIGN + ALIGN;
    return ptr;
  }

  /** Grows the memory to hold everything allocated, zeroes it, and returns views of it. */
  commit(): Views {
    const memory = this.k.memory;
    const need = this.top - memory.buffer.byteLength;
    if (need > 0) memory.grow(Math.ceil(need / PAGE));
    new Uint8Array(memory.buffer, this.base, this.top - this.base).fill(0);
    return new Views(memory.buffer);
  }
}

/** Typed views of the kernel memory (valid until the next commit). */
export class Views {
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  constructor(buffer: ArrayBuffer) {
    this.f32 = new Float32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.i32 = new Int32Array(buffer);
  }

  int32(ptr: Ptr, n: number): Int32Array {
    return this.i32.subarray(ptr / 4, ptr / 4 + n);
  }

  float32(ptr: Ptr, n: number): Float32Array {
    return this.f32.subarray(ptr / 4, ptr / 4 + n);
  }

  float64(ptr: Ptr, n: number): Float64Array {
    return this.f64.subarray(ptr / 8, ptr / 8 + n);
  }
}

let module: Uint8Array | undefined;
let instance: Kernels | undefined;

/** A new instance of the kernels with its own memory (for a computation that must not share this thread's). */
export function createKernels(): Kernels {
  if (!module) {
    const binary = atob(KERNELS_WASM_BASE64);
    module = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) module[i] = binary.charCodeAt(i);
  }
  return new Kernels(module);
}

/** This thread's kernels (compiled on first use). */
export function kernels(): Kernels {
  instance ??= createKernels();
  return instance;
}
