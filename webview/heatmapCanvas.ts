/**
 * A zoomable, pannable SQNR heatmap on a canvas: rows x columns of cells, fetched as downsampled tiles for
 * the visible window at screen resolution (so 4096 x 128 cells and up stay cheap), with axes, a legend in
 * dB and a hover tooltip. Wheel zooms around the pointer, drag pans, double-click resets.
 */
import type { HeatmapTile } from '../src/protocol';
import { colorIndex, type Colormap } from './colormap';
import { formatDb } from './format';
import { cellText, clampStart, follow, frameCell, moveCursor, shorten, ticks, type Cell } from './heatmapCursor';

/** Cells of a window of the heatmap, as the extension sends them or built locally (absmax optional). */
export type Tile = Omit<HeatmapTile, 'absmax'> & { absmax?: Float32Array };

/** What a heatmap shows and how to get its cells. */
export interface HeatmapSource {
  rows: number;
  cols: number;
  rowLabel: string;
  colLabel: string;
  /** Names per row / column (model heatmap); numbers otherwise. */
  rowNames?: string[];
  colNames?: string[];
  /** Colour domain in dB. */
  domain: [number, number];
  /** Whether the column axis zooms too (false: all columns always shown). */
  zoomCols: boolean;
  fetch(
    view: { row0: number; rows: number; col0: number; cols: number },
    maxRows: number,
    maxCols: number,
  ): Promise<Tile>;
  /** Click on a cell. */
  onClick?(row: number, col: number): void;
}

const MARGIN = { left: 64, right: 78, top: 10, bottom: 40 };

/** The plot area in CSS pixels. */
type Plot = { x: number; y: number; w: number; h: number };
/** CSS pixels per heatmap cell along each axis. */
type CellPx = { row: number; col: number };

/** A heatmap drawn into `canvas`, with a tooltip element next to it. */
export class HeatmapCanvas {
  private view = { row0: 0, rows: 1, col0: 0, cols: 1 };
  private tile: Tile | undefined;
  private drag: { x: number; y: number; row0: number; col0: number; moved: boolean } | undefined;
  private pending = 0;
  private drawn = 0;
  /** The keyboard's cell (shown while the canvas has focus). */
  private cursor: Cell = { row: 0, col: 0 };
  private label: string | undefined;
  /** Resolves when the last requested window is painted (tests, export). */
  painted: Promise<void> = Promise.resolve();

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly tooltip: HTMLElement,
    private source: HeatmapSource,
    private map: Colormap,
    private readonly onError: (e: unknown) => void,
  ) {
    this.reset();
    canvas.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    canvas.addEventListener('mousedown', (e) => {
      this.drag = { x: e.offsetX, y: e.offsetY, row0: this.view.row0, col0: this.view.col0, moved: false };
    });
    canvas.addEventListener('mousemove', (e) => this.onMove(e));
    canvas.addEventListener('mouseup', (e) => {
      const click = this.drag && !this.drag.moved;
      this.drag = undefined;
      const cell = click ? this.cellAt(e.offsetX, e.offsetY) : undefined;
      if (cell) this.source.onClick?.(cell.row, cell.col);
    });
    canvas.addEventListener('mouseleave', () => {
      this.drag = undefined;
      tooltip.hidden = true;
    });
    canvas.addEventListener('dblclick', () => {
      this.reset();
      this.refresh();
    });
    canvas.addEventListener('keydown', (e) => this.onKey(e));
    canvas.addEventListener('focus', () => this.showCursor());
    canvas.addEventListener('blur', () => {
      tooltip.hidden = true;
      this.draw();
    });
  }

  /** Arrow keys move the cell cursor (the view follows), Enter or Space opens its cell like a click. */
  private onKey(e: KeyboardEvent): void {
    const { rows, cols } = this.source;
    if (rows === 0 || cols === 0) return;
    const open = e.key === 'Enter' || e.key === ' ';
    const next = open ? this.cursor : moveCursor(this.cursor, e.key, rows, cols, Math.floor(this.view.rows));
    if (!next) return;
    e.preventDefault();
    if (open) return this.source.onClick?.(next.row, next.col);
    this.cursor = next;
    const v = this.view;
    const row0 = follow(Math.floor(v.row0), Math.floor(v.rows), next.row, rows);
    const col0 = this.source.zoomCols ? follow(Math.floor(v.col0), Math.floor(v.cols), next.col, cols) : v.col0;
    const moved = row0 !== Math.floor(v.row0) || col0 !== v.col0;
    [v.row0, v.col0] = [moved ? row0 : v.row0, col0];
    if (moved) this.refresh();
    this.showCursor();
  }

  /** The cursor cell's tooltip, placed at the cell, and the canvas's label saying which cell it is. */
  private showCursor(): void {
    const { row, col } = this.cursor;
    const p = this.plot();
    const v = this.view;
    const x = p.x + ((col - v.col0 + 1) / v.cols) * p.w;
    const y = p.y + ((row - v.row0 + 1) / v.rows) * p.h;
    const text = this.cellText(row, col);
    if (text === undefined) return;
    this.label ??= this.canvas.getAttribute('aria-label') ?? 'Heatmap';
    this.canvas.setAttribute(
      'aria-label',
      `${this.label}. ${text.replace(/\n/g, ', ')}.${this.source.onClick ? ' Enter opens this cell.' : ''}`,
    );
    this.showTooltip(text, x, y);
    this.draw();
  }

  /** Shows another source (or colormap) from its full extent. */
  update(source: HeatmapSource, map: Colormap, keepView = false): void {
    const same = keepView && source.rows === this.source.rows && source.cols === this.source.cols;
    this.source = source;
    this.map = map;
    if (!same) this.reset();
    this.refresh();
  }

  private reset(): void {
    this.view = { row0: 0, rows: this.source.rows, col0: 0, cols: this.source.cols };
  }

  /** Plot area in CSS pixels. */
  private plot(): Plot {
    const w = this.canvas.clientWidth || 600;
    const h = this.canvas.clientHeight || 300;
    const left = this.source.rowNames ? Math.min(260, Math.round(w * 0.3)) : MARGIN.left;
    return {
      x: left,
      y: MARGIN.top,
      w: Math.max(10, w - left - MARGIN.right),
      h: Math.max(10, h - MARGIN.top - MARGIN.bottom),
    };
  }

  /** Fetches the visible window at screen resolution and draws it. */
  refresh(): void {
    const id = ++this.pending;
    const { w, h } = this.plot();
    const v = this.view;
    this.painted = this.source
      .fetch(
        { row0: Math.floor(v.row0), rows: Math.ceil(v.rows), col0: Math.floor(v.col0), cols: Math.ceil(v.cols) },
        Math.round(h),
        Math.round(w),
      )
      .then((tile) => {
        if (id !== this.pending) return;
        this.tile = tile;
        this.draw();
        this.drawn = id;
      })
      .catch(this.onError);
  }

  /** True once a window has been painted. */
  get hasPainted(): boolean {
    return this.drawn > 0;
  }

  private draw(): void {
    const { canvas, tile } = this;
    const dpr = window.devicePixelRatio || 1;
    const cssW = canvas.clientWidth || 600;
    const cssH = canvas.clientHeight || 300;
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
    const ctx = canvas.getContext('2d');
    if (!ctx || !tile) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const style = getComputedStyle(document.body);
    const fg = style.getPropertyValue('--vscode-foreground').trim() || '#888';
    const font = style.getPropertyValue('--vscode-font-family').trim() || 'sans-serif';
    const p = this.plot();
    const px = { row: p.h / this.view.rows, col: p.w / this.view.cols };
    this.drawCells(ctx, tile, p, px);
    // Cells may run past the plot: clear the margins, then frame the plot.
    ctx.clearRect(0, 0, p.x, cssH);
    ctx.clearRect(p.x + p.w, 0, cssW - p.x - p.w, cssH);
    ctx.clearRect(0, p.y + p.h, cssW, cssH - p.y - p.h);
    ctx.strokeStyle = fg;
    ctx.globalAlpha = 0.4;
    ctx.strokeRect(p.x - 0.5, p.y - 0.5, p.w + 1, p.h + 1);
    ctx.globalAlpha = 1;
    ctx.fillStyle = fg;
    ctx.font = `11px ${font}`;
    this.drawRowAxis(ctx, p, px.row);
    this.drawColAxis(ctx, p, px.col);
    // Values in cells large enough to hold them (one shown cell per heatmap cell).
    if (tile.channelStep === 1 && tile.blockStep === 1 && px.row >= 14 && px.col >= 44)
      this.drawValues(ctx, tile, p, px);
    this.drawLegend(ctx, p, fg);
    if (document.activeElement === canvas) {
      const v = this.view;
      const x = p.x + (this.cursor.col - v.col0) * px.col;
      const y = p.y + (this.cursor.row - v.row0) * px.row;
      frameCell(ctx, [x, y, px.col, px.row], style.getPropertyValue('--vscode-focusBorder').trim() || '#0078d4');
    }
  }

  /** One pixel per shown cell in an offscreen image, scaled into the plot without smoothing. */
  private drawCells(ctx: CanvasRenderingContext2D, tile: Tile, p: Plot, px: CellPx): void {
    const { map } = this;
    const image = new ImageData(tile.cols, tile.rows);
    const [lo, hi] = this.source.domain;
    for (let i = 0; i < tile.rows * tile.cols; i++) {
      const c = colorIndex(tile.sqnr[i], lo, hi);
      const o = i * 4;
      if (c < 0) {
        image.data[o + 3] = 0;
        continue;
      }
      image.data[o] = map.rgb[c * 3];
      image.data[o + 1] = map.rgb[c * 3 + 1];
      image.data[o + 2] = map.rgb[c * 3 + 2];
      image.data[o + 3] = 255;
    }
    const off = new OffscreenCanvas(tile.cols, tile.rows);
    off.getContext('2d')?.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    // Shown cells cover [channel0, channel0 + rows * step) which may run past the view's end: scale accordingly.
    const v = this.view;
    ctx.drawImage(
      off,
      p.x + (tile.block0 - v.col0) * px.col,
      p.y + (tile.channel0 - v.row0) * px.row,
      tile.cols * tile.blockStep * px.col,
      tile.rows * tile.channelStep * px.row,
    );
  }

  /** Row names when they fit (model heatmap), else numbered ticks and the rotated row label. */
  private drawRowAxis(ctx: CanvasRenderingContext2D, p: Plot, rowPx: number): void {
    const v = this.view;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const names = this.source.rowNames;
    if (names && rowPx >= 11) {
      for (let r = Math.floor(v.row0); r < Math.min(this.source.rows, v.row0 + v.rows); r++) {
        ctx.fillText(shorten(names[r], Math.floor((p.x - 8) / 6.2)), p.x - 4, p.y + (r - v.row0 + 0.5) * rowPx);
      }
      return;
    }
    for (const t of ticks(v.row0, v.row0 + v.rows, Math.max(2, Math.floor(p.h / 40)))) {
      ctx.fillText(String(t), p.x - 4, p.y + (t - v.row0 + 0.5) * rowPx);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.save();
    ctx.translate(12, p.y + p.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(this.source.rowLabel, 0, -6);
    ctx.restore();
  }

  /** Column names (model heatmap) or numbered ticks, and the column label. */
  private drawColAxis(ctx: CanvasRenderingContext2D, p: Plot, colPx: number): void {
    const v = this.view;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const colNames = this.source.colNames;
    if (colNames) {
      for (let c = Math.floor(v.col0); c < Math.min(this.source.cols, v.col0 + v.cols); c++) {
        const name = shorten(colNames[c], Math.max(4, Math.floor(colPx / 6.5)));
        ctx.fillText(name, p.x + (c - v.col0 + 0.5) * colPx, p.y + p.h + 4);
      }
    } else {
      for (const t of ticks(v.col0, v.col0 + v.cols, Math.max(2, Math.floor(p.w / 70)))) {
        ctx.fillText(String(t), p.x + (t - v.col0 + 0.5) * colPx, p.y + p.h + 4);
      }
    }
    ctx.fillText(this.source.colLabel, p.x + p.w / 2, p.y + p.h + 22);
  }

  /** Each cell's SQNR written in it, black or white by the cell colour's luminance. */
  private drawValues(ctx: CanvasRenderingContext2D, tile: Tile, p: Plot, px: CellPx): void {
    const { map, view: v } = this;
    const [lo, hi] = this.source.domain;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (let r = 0; r < tile.rows; r++) {
      for (let c = 0; c < tile.cols; c++) {
        const val = tile.sqnr[r * tile.cols + c];
        const ci = colorIndex(val, lo, hi);
        if (ci < 0) continue;
        const [cr, cg, cb] = [map.rgb[ci * 3], map.rgb[ci * 3 + 1], map.rgb[ci * 3 + 2]];
        ctx.fillStyle = 0.2126 * cr + 0.7152 * cg + 0.0722 * cb > 140 ? '#000' : '#fff';
        ctx.fillText(
          formatDb(val),
          p.x + (tile.block0 + c - v.col0 + 0.5) * px.col,
          p.y + (tile.channel0 + r - v.row0 + 0.5) * px.row,
        );
      }
    }
  }

  /** The colour bar in dB right of the plot. */
  private drawLegend(ctx: CanvasRenderingContext2D, p: Plot, fg: string): void {
    const [lo, hi] = this.source.domain;
    const lx = p.x + p.w + 14;
    for (let i = 0; i < p.h; i++) {
      ctx.fillStyle = this.map.css[Math.round((1 - i / p.h) * 255)];
      ctx.fillRect(lx, p.y + i, 12, 1.5);
    }
    ctx.fillStyle = fg;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillText(`${formatDb(hi)}`, lx + 16, p.y + 5);
    ctx.fillText(`${formatDb((lo + hi) / 2)}`, lx + 16, p.y + p.h / 2);
    ctx.fillText(`${formatDb(lo)}`, lx + 16, p.y + p.h - 5);
    ctx.save();
    ctx.translate(lx + 58, p.y + p.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillText('SQNR (dB)', 0, 0);
    ctx.restore();
  }

  private cellAt(x: number, y: number): { row: number; col: number } | undefined {
    const p = this.plot();
    if (x < p.x || y < p.y || x >= p.x + p.w || y >= p.y + p.h) return undefined;
    const row = Math.floor(this.view.row0 + ((y - p.y) / p.h) * this.view.rows);
    const col = Math.floor(this.view.col0 + ((x - p.x) / p.w) * this.view.cols);
    return row < this.source.rows && col < this.source.cols ? { row, col } : undefined;
  }

  private onMove(e: MouseEvent): void {
    const p = this.plot();
    if (this.drag) {
      const dx = e.offsetX - this.drag.x;
      const dy = e.offsetY - this.drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) this.drag.moved = true;
      if (this.drag.moved) {
        this.view.row0 = clampStart(this.drag.row0 - (dy / p.h) * this.view.rows, this.view.rows, this.source.rows);
        if (this.source.zoomCols)
          this.view.col0 = clampStart(this.drag.col0 - (dx / p.w) * this.view.cols, this.view.cols, this.source.cols);
        this.refresh();
      }
      return;
    }
    const cell = this.cellAt(e.offsetX, e.offsetY);
    const text = cell && this.cellText(cell.row, cell.col);
    if (text === undefined) {
      this.tooltip.hidden = true;
      return;
    }
    this.showTooltip(text, e.offsetX, e.offsetY);
  }

  private showTooltip(text: string, x: number, y: number): void {
    this.tooltip.textContent = text;
    this.tooltip.hidden = false;
    const room = (this.canvas.clientWidth || 600) - this.tooltip.offsetWidth - 4;
    this.tooltip.style.left = `${Math.max(0, Math.min(x + 14, room))}px`;
    this.tooltip.style.top = `${y + 14}px`;
  }

  /** What a cell holds, as its tooltip says it (undefined when the shown tile does not cover it). */
  private cellText(row: number, col: number): string | undefined {
    return this.tile && cellText(this.tile, this.source, row, col);
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    const p = this.plot();
    const factor = e.deltaY > 0 ? 1.25 : 0.8;
    const fy = Math.min(1, Math.max(0, (e.offsetY - p.y) / p.h));
    const fx = Math.min(1, Math.max(0, (e.offsetX - p.x) / p.w));
    const v = this.view;
    const rows = Math.min(this.source.rows, Math.max(Math.min(4, this.source.rows), v.rows * factor));
    v.row0 = clampStart(v.row0 + fy * (v.rows - rows), rows, this.source.rows);
    v.rows = rows;
    if (this.source.zoomCols) {
      const cols = Math.min(this.source.cols, Math.max(Math.min(4, this.source.cols), v.cols * factor));
      v.col0 = clampStart(v.col0 + fx * (v.cols - cols), cols, this.source.cols);
      v.cols = cols;
    }
    this.refresh();
  }
}
