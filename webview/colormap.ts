/** Perceptual, colour-blind-safe colormaps (d3-scale-chromatic) as 256-entry lookup tables for canvas and cells. */
import { interpolateCividis, interpolateInferno, interpolateMagma, interpolateViridis } from 'd3-scale-chromatic';
import type { InspectorSettings } from '../src/protocol';

const INTERPOLATORS: Record<InspectorSettings['colormap'], (t: number) => string> = {
  viridis: interpolateViridis,
  cividis: interpolateCividis,
  magma: interpolateMagma,
  inferno: interpolateInferno,
};

/** A colormap sampled at 256 points: RGB bytes and CSS colours. */
export interface Colormap {
  name: InspectorSettings['colormap'];
  rgb: Uint8ClampedArray;
  css: string[];
}

const cache = new Map<string, Colormap>();

/** The lookup table of a named colormap. */
export function colormap(name: InspectorSettings['colormap']): Colormap {
  let map = cache.get(name);
  if (!map) {
    const rgb = new Uint8ClampedArray(256 * 3);
    const css: string[] = [];
    const interpolate = INTERPOLATORS[name] ?? interpolateViridis;
    for (let i = 0; i < 256; i++) {
      const c = interpolate(i / 255);
      const m = /rgb\((\d+), (\d+), (\d+)\)/.exec(c) ?? /#(..)(..)(..)/.exec(c);
      const parts = m ? m.slice(1, 4).map((p) => (c.startsWith('#') ? parseInt(p, 16) : Number(p))) : [0, 0, 0];
      rgb.set(parts, i * 3);
      css.push(`rgb(${parts.join(',')})`);
    }
    map = { name, rgb, css };
    cache.set(name, map);
  }
  return map;
}

/** Index 0..255 of `v` on [lo, hi] (clamped); -1 for NaN. +Infinity maps to the top. */
export function colorIndex(v: number, lo: number, hi: number): number {
  if (Number.isNaN(v)) return -1;
  if (v === Infinity) return 255;
  const t = hi > lo ? (v - lo) / (hi - lo) : 1;
  return Math.max(0, Math.min(255, Math.round(t * 255)));
}

/** Black or white text, whichever reads better on colour entry `i`. */
export function textOn(map: Colormap, i: number): string {
  const [r, g, b] = [map.rgb[i * 3], map.rgb[i * 3 + 1], map.rgb[i * 3 + 2]];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 140 ? '#000' : '#fff';
}

/** SQNR range of table cells and the model heatmap: fixed, so colours compare across layers and models. */
export const SQNR_DOMAIN: [number, number] = [0, 60];
