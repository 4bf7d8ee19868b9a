/** The heatmap's keyboard cell cursor (arrow keys move it, Page/Home/End jump, the view follows it), cell texts and axis helpers. */
import { formatNum, formatSqnr } from './format';
import type { HeatmapSource, Tile } from './heatmapCanvas';

/** A cell of the heatmap. */
export interface Cell {
  row: number;
  col: number;
}

/** The cursor after `key` (undefined: not a cursor key). Page keys move by a screen of rows (`page`). */
export function moveCursor(c: Cell, key: string, rows: number, cols: number, page: number): Cell | undefined {
  const clamp = (v: number, n: number): number => Math.max(0, Math.min(n - 1, v));
  const moves: Record<string, [number, number]> = {
    ArrowUp: [-1, 0],
    ArrowDown: [1, 0],
    ArrowLeft: [0, -1],
    ArrowRight: [0, 1],
    PageUp: [-Math.max(1, page), 0],
    PageDown: [Math.max(1, page), 0],
  };
  if (key === 'Home') return { row: c.row, col: 0 };
  if (key === 'End') return { row: c.row, col: cols - 1 };
  const m = moves[key];
  return m ? { row: clamp(c.row + m[0], rows), col: clamp(c.col + m[1], cols) } : undefined;
}

/** A view start that keeps `index` inside [start, start + size) with the least movement. */
export function follow(start: number, size: number, index: number, total: number): number {
  if (index < start) return index;
  if (index + 1 > start + size) return Math.max(0, Math.min(total - size, index + 1 - size));
  return start;
}

/** A 2 px frame inside the cell [x, y, width, height] (the keyboard's cell). */
export function frameCell(ctx: CanvasRenderingContext2D, [x, y, w, h]: number[], color: string): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.strokeRect(x + 1, y + 1, Math.max(2, w - 2), Math.max(2, h - 2));
  ctx.lineWidth = 1;
}

/** What cell (row, col) of the heatmap holds, as its tooltip says it (undefined when `t` does not cover it). */
export function cellText(t: Tile, source: HeatmapSource, row: number, col: number): string | undefined {
  const r = Math.floor((row - t.channel0) / t.channelStep);
  const c = Math.floor((col - t.block0) / t.blockStep);
  if (r < 0 || c < 0 || r >= t.rows || c >= t.cols) return undefined;
  const i = r * t.cols + c;
  const rowText =
    source.rowNames?.[row] ??
    `${source.rowLabel} ${rangeText(t.channel0 + r * t.channelStep, t.channelStep, source.rows)}`;
  const colText = source.colNames?.[col] ?? `block ${rangeText(t.block0 + c * t.blockStep, t.blockStep, source.cols)}`;
  const merged = t.channelStep > 1 || t.blockStep > 1 ? ' (worst of the cells shown here)' : '';
  const absmax = t.absmax ? `\nabsmax ${formatNum(t.absmax[i])}` : '';
  return `${rowText} · ${colText}\nSQNR ${formatSqnr(t.sqnr[i])}${merged}${absmax}`;
}

/** `start` moved so that [start, start + size) lies in [0, total). */
export function clampStart(start: number, size: number, total: number): number {
  return Math.max(0, Math.min(total - size, start));
}

function rangeText(start: number, step: number, total: number): string {
  const end = Math.min(total, start + step) - 1;
  return end > start ? `${start}–${end}` : String(start);
}

/** `s` cut to `max` characters in the middle. */
export function shorten(s: string, max: number): string {
  // In the middle: two labels that differ at either end never read the same.
  if (s.length <= max) return s;
  const head = Math.ceil((max - 1) / 2);
  return `${s.slice(0, head)}…${s.slice(s.length - (max - 1 - head))}`;
}

/** About `count` round tick values in [lo, hi). */
export function ticks(lo: number, hi: number, count: number): number[] {
  const span = Math.max(1, hi - lo);
  const raw = span / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? raw);
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t < hi; t += step) out.push(Math.round(t));
  return out;
}
