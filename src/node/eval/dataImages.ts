/**
 * Image folders as data: PNG/JPEG files (or one subfolder per class), decoded and preprocessed when a sample
 * is used and kept while they fit in the cache.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import type { ImageOptions } from '../../core/eval/spec';
import { ModelError } from '../../core/onnx/errors';
import { ioProblem, readRegularFileSync } from '../safeRead';
import { DataProblem, listField, size, type Field } from './dataFields';

/** The largest image file read (each file of a folder). */
const IMAGE_LIMIT = 256 * 2 ** 20;

/** The most pixels an image may have, decoded or resized (its floats take 12 bytes a pixel in RGB). */
const MAX_PIXELS = 2 ** 25;

/** Refuses an image whose pixels would take more memory than QuantLens gives one image. */
function checkPixels(file: string, height: number, width: number): void {
  if (height * width > MAX_PIXELS)
    throw new Error(`${file} is ${width} x ${height} pixels; QuantLens takes images of at most ${MAX_PIXELS} pixels`);
}

/** Bilinear resize of an interleaved HWC image (values 0..255). */
function resize(src: Float32Array, h: number, w: number, c: number, oh: number, ow: number): Float32Array {
  if (h === oh && w === ow) return src;
  const out = new Float32Array(oh * ow * c);
  for (let y = 0; y < oh; y++) {
    const sy = Math.min(h - 1, Math.max(0, ((y + 0.5) * h) / oh - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(h - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < ow; x++) {
      const sx = Math.min(w - 1, Math.max(0, ((x + 0.5) * w) / ow - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(w - 1, x0 + 1);
      const fx = sx - x0;
      for (let k = 0; k < c; k++) {
        const a = src[(y0 * w + x0) * c + k] * (1 - fx) + src[(y0 * w + x1) * c + k] * fx;
        const b = src[(y1 * w + x0) * c + k] * (1 - fx) + src[(y1 * w + x1) * c + k] * fx;
        out[(y * ow + x) * c + k] = a * (1 - fy) + b * fy;
      }
    }
  }
  return out;
}

/** Decodes and preprocesses one image into a CHW or HWC float tensor. */
export function preprocessImage(
  bytes: Uint8Array,
  file: string,
  options: ImageOptions,
): { data: Float32Array; shape: number[] } {
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  if (bytes[0] === 0x89 && bytes[1] === 0x50) {
    // IHDR's width and height (bytes 16..23), checked before pngjs allocates width x height x 4 bytes.
    if (bytes.length >= 24) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, 24);
      checkPixels(file, view.getUint32(20), view.getUint32(16));
    }
    const png = PNG.sync.read(Buffer.from(bytes));
    rgba = png.data;
    width = png.width;
    height = png.height;
  } else if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    const jpeg = decodeJpeg(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_PIXELS / 1e6,
      maxMemoryUsageInMB: 1024,
    });
    rgba = jpeg.data;
    width = jpeg.width;
    height = jpeg.height;
  } else {
    throw new Error(`${file} is neither PNG nor JPEG`);
  }
  const c = options.channels === 'gray' ? 1 : 3;
  const hwc = new Float32Array(width * height * c);
  for (let p = 0; p < width * height; p++) {
    if (c === 1) hwc[p] = 0.299 * rgba[4 * p] + 0.587 * rgba[4 * p + 1] + 0.114 * rgba[4 * p + 2];
    else for (let k = 0; k < 3; k++) hwc[3 * p + k] = rgba[4 * p + k];
  }
  const [oh, ow] = options.size ?? [height, width];
  checkPixels(`${file} resized to image.size`, oh, ow);
  const resized = resize(hwc, height, width, c, oh, ow);
  const scale = options.scale ?? 1 / 255;
  const mean = options.mean ?? [];
  const std = options.std ?? [];
  const nchw = (options.layout ?? 'NCHW') === 'NCHW';
  const out = new Float32Array(resized.length);
  for (let p = 0; p < oh * ow; p++) {
    for (let k = 0; k < c; k++) {
      const v = (resized[p * c + k] * scale - (mean[k] ?? mean[0] ?? 0)) / (std[k] ?? std[0] ?? 1);
      out[nchw ? k * oh * ow + p : p * c + k] = v;
    }
  }
  return { data: out, shape: nchw ? [c, oh, ow] : [oh, ow, c] };
}

/**
 * A folder of images: PNG/JPEG files, or one subfolder of them per class (fields 'label' and 'class'). Images
 * are decoded when a sample is used (the spec's checks use every selected one before inference), and kept
 * while they fit in `cacheBytes`; the first is decoded here for the shape.
 */
export async function imageFields(
  folder: string,
  file: string,
  options: ImageOptions,
  pointer: string,
  cacheBytes: number,
): Promise<{ count: number; fields: Field[] }> {
  const { items, classes } = await listImages(folder);
  const { shape, image } = decodedImages(folder, file, items, options, pointer, cacheBytes);
  const where = (i: number): string => `sample ${i} (${items[i].file} in ${file})`;
  const list = (name: string, values: (string | number)[]): Field => listField(name, file, values, where, pointer);
  const fields: Field[] = [
    { name: 'image', file, shape, scalar: (i) => (size(shape) === 1 ? image(i)[0] : undefined), values: image, where },
    list(
      'file',
      items.map((it) => it.file),
    ),
  ];
  if (classes.length > 0) {
    fields.push(
      list(
        'label',
        items.map((it) => it.label!),
      ),
      list(
        'class',
        items.map((it) => it.cls!),
      ),
    );
  }
  return { count: items.length, fields };
}

/** The images of a folder decoded when used, the first decoded now (its shape is every image's). */
function decodedImages(
  folder: string,
  file: string,
  items: readonly { file: string }[],
  options: ImageOptions,
  pointer: string,
  cacheBytes: number,
): { shape: number[]; image: (i: number) => Float32Array } {
  const decode = (i: number): { data: Float32Array; shape: number[] } => {
    const what = `Data folder '${file}': image ${items[i].file}`;
    try {
      return preprocessImage(
        readRegularFileSync(path.join(folder, items[i].file), IMAGE_LIMIT, what),
        items[i].file,
        options,
      );
    } catch (error) {
      if (error instanceof ModelError) throw new DataProblem(`${pointer}/path`, error.message);
      throw new DataProblem(
        `${pointer}/path`,
        `Data folder '${file}': image ${items[i].file}: ${error instanceof Error ? error.message : String(error)}.`,
      );
    }
  };
  const first = decode(0);
  const { shape } = first;
  const kept = new Map<number, Float32Array>([[0, first.data]]);
  let keptBytes = first.data.byteLength;
  const image = (i: number): Float32Array => {
    const known = kept.get(i);
    if (known) return known;
    const decoded = decode(i);
    if (decoded.shape.join() !== shape.join()) {
      throw new DataProblem(
        `${pointer}/path`,
        `Data folder '${file}': image ${items[i].file} is ${decoded.shape.join('x')} after preprocessing, the first was ${shape.join('x')}; set image.size to resize them all.`,
      );
    }
    if (keptBytes + decoded.data.byteLength <= cacheBytes) {
      kept.set(i, decoded.data);
      keptBytes += decoded.data.byteLength;
    }
    return decoded.data;
  };
  return { shape, image };
}

/** The images of a folder, sorted: its own, or those of its subfolders (one per class, label = index). */
async function listImages(
  folder: string,
): Promise<{ items: { file: string; label?: number; cls?: string }[]; classes: string[] }> {
  const isImage = (n: string): boolean => /\.(png|jpe?g)$/i.test(n);
  const entries = await fs.readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new Error(
      error.code === 'ENOTDIR'
        ? 'it is not a folder (an images source is a folder of PNG/JPEG files)'
        : `it ${ioProblem(error)}`,
    );
  });
  const classes = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const items: { file: string; label?: number; cls?: string }[] = [];
  if (classes.length > 0) {
    for (const [label, cls] of classes.entries()) {
      for (const name of (await fs.readdir(path.join(folder, cls))).filter(isImage).sort())
        items.push({ file: path.join(cls, name), label, cls });
    }
  } else {
    for (const name of entries
      .filter((e) => !e.isDirectory() && isImage(e.name))
      .map((e) => e.name)
      .sort())
      items.push({ file: name });
  }
  if (items.length === 0) throw new Error('it holds no PNG or JPEG images');
  return { items, classes };
}
