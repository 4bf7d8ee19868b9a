/**
 * The virtualized layer table: fixed-height rows, only the visible ones in the DOM, fetched from the
 * extension a page at a time for the current sort and filter (10,000+ rows scroll at full frame rate).
 * Header and rows are drawn from one list of columns with one pixel geometry (src/core/view/tableColumns.ts).
 */
import { html, nothing, render, type TemplateResult } from 'lit';
import { cssom } from '../cssom';
import type { LayerRow, SortKey, TableQuery } from '../../src/protocol';
import { SQNR_MEANING, splitMiddle, type TableColumn } from '../../src/core/view/tableColumns';
import { headerLines, type Measure } from '../../src/core/view/tableHeader';
import { colorIndex, SQNR_DOMAIN, textOn, type Colormap } from '../colormap';
import { formatDb, formatInt, formatNum, formatShape } from '../format';

/** Row height in CSS pixels (also in inspector.css). */
export const ROW_HEIGHT = 24;
/** Rows per table request. */
export const PAGE_SIZE = 100;

/** Rows fetched for one query, by position. */
export class RowCache {
  readonly rows = new Map<number, LayerRow>();
  private readonly requested = new Set<number>();
  total = 0;
  /** Rows from before the last refresh are shown until their page arrives again. */
  stale = false;

  /** False until the first page arrived (the total is unknown before). */
  loaded = false;

  /** Pages (start offsets) covering [first, last) that are missing or stale and not yet requested. */
  missingPages(first: number, last: number): number[] {
    const pages: number[] = [];
    for (let p = Math.floor(Math.max(0, first) / PAGE_SIZE) * PAGE_SIZE; p < last; p += PAGE_SIZE) {
      if (this.requested.has(p)) continue;
      if (!this.stale && this.rows.has(p) && this.rows.has(Math.min(this.total, p + PAGE_SIZE) - 1)) continue;
      pages.push(p);
    }
    return pages;
  }

  markRequested(page: number): void {
    this.requested.add(page);
  }

  /** Marks everything for re-fetching (new analysis results) while keeping what is shown. */
  invalidate(): void {
    this.stale = true;
    this.requested.clear();
  }

  fill(offset: number, rows: LayerRow[], total: number): void {
    this.loaded = true;
    this.total = total;
    rows.forEach((r, i) => this.rows.set(offset + i, r));
    this.requested.delete(offset);
    if (this.requested.size === 0) this.stale = false;
  }
}

/** A text truncated in the middle: the head gets the ellipsis, the tail always shows; `extra` after it is cut first. */
export function middle(text: string, extra: TemplateResult | typeof nothing = nothing): TemplateResult {
  const [head, tail] = splitMiddle(text);
  return html`<span class="mid"
    ><span class="head">${head}</span
    ><span class="tail">${tail}</span>${extra === nothing ? nothing : html`<span class="extra">${extra}</span>`}</span
  >`;
}

/** Class names of a cell of column `c`. */
const cellClass = (c: TableColumn, extra = ''): string =>
  `cell${c.numeric ? ' num' : ''}${c.pinned ? ' pin' : ''}${extra ? ` ${extra}` : ''}`;

/** Text widths in the header's font (semibold, the body's size and family), measured on a canvas. */
let measureCtx: CanvasRenderingContext2D | null | undefined;
function headerMeasure(): Measure | undefined {
  measureCtx ??= document.createElement('canvas').getContext('2d');
  if (!measureCtx) return undefined;
  const s = getComputedStyle(document.body);
  measureCtx.font = `600 ${s.fontSize || '13px'} ${s.fontFamily || 'sans-serif'}`;
  const ctx = measureCtx;
  return (text) => Math.ceil(ctx.measureText(text).width) + 1;
}

/** The header row: a column header per column, focusable, sorted by click, Enter or Space; names on up to two lines. */
export function tableHeader(
  columns: readonly TableColumn[],
  query: TableQuery,
  sortBy: (key: SortKey) => void,
): TemplateResult {
  const onKey = (e: KeyboardEvent, key: SortKey | null): void => {
    const cell = e.currentTarget as HTMLElement;
    if ((e.key === 'Enter' || e.key === ' ') && key) {
      e.preventDefault();
      e.stopPropagation();
      sortBy(key);
    } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      e.stopPropagation();
      const next = e.key === 'ArrowRight' ? cell.nextElementSibling : cell.previousElementSibling;
      (next as HTMLElement | null)?.focus();
    }
  };
  const measure = headerMeasure();
  return html`<div class="vrow vhead" role="row" aria-rowindex="1">
    ${columns.map((c, i) => {
      const sorted = c.sort !== null && query.sort === c.sort;
      const order = query.descending ? 'descending' : 'ascending';
      const { lines, whole } = headerLines(c.title, c.width, measure, sorted);
      return html`<div
        role="columnheader"
        class=${cellClass(c, c.sort ? 'sortable' : '')}
        title=${c.tip}
        data-whole=${whole ? 'true' : 'false'}
        tabindex=${c.sort ? '0' : '-1'}
        data-col=${c.key}
        data-title=${c.title}
        aria-colindex=${i + 1}
        aria-sort=${sorted ? order : 'none'}
        @click=${c.sort ? () => sortBy(c.sort!) : nothing}
        @keydown=${(e: KeyboardEvent) => onKey(e, c.sort)}
      >
        <span class="hlines">${lines.map((l) => html`<span class="hline">${l}</span>`)}</span>${
          sorted
            ? html`<span class="arrow"
                ><span class="codicon codicon-arrow-${query.descending ? 'down' : 'up'}"></span
              ></span>`
            : nothing
        }
      </div>`;
    })}
  </div>`;
}

/** Renders the visible rows of the table into `el` (positions first..last of the query's rows). */
export function renderRows(
  el: HTMLElement,
  columns: readonly TableColumn[],
  cache: RowCache,
  range: [number, number],
  selected: number | undefined,
  map: Colormap,
  select: (pos: number, row: LayerRow) => void,
): void {
  const items: TemplateResult[] = [];
  // SQNR columns come in the order of the row's `sqnr` values.
  const sqnrAt = new Map(columns.filter((c) => c.key.startsWith('sqnr:')).map((c, i) => [c.key, i]));
  for (let pos = range[0]; pos < Math.min(range[1], cache.total); pos++) {
    const r = cache.rows.get(pos);
    if (!r) {
      items.push(
        html`<div class="vrow placeholder" role="row" aria-rowindex=${pos + 2}>
          ${columns.map((c, i) => html`<div role="gridcell" class=${cellClass(c, 'muted')}>${i === 0 ? pos + 1 : i === 1 ? '…' : ''}</div>`)}
        </div>`,
      );
      continue;
    }
    items.push(
      html`<div
        role="row"
        class="vrow ${r.index === selected ? 'selected' : ''} ${r.quantizable ? '' : 'dim'}"
        data-index=${r.index}
        aria-rowindex=${pos + 2}
        aria-selected=${r.index === selected}
        @click=${() => select(pos, r)}
      >
        ${columns.map((c) => cell(c, r, map, sqnrAt))}
      </div>`,
    );
  }
  render(html`${items}`, el);
}

/** One cell of row `r` in column `c`. */
function cell(c: TableColumn, r: LayerRow, map: Colormap, sqnrAt: ReadonlyMap<string, number>): TemplateResult {
  const s = r.stats;
  const plain = (text: string, title?: string): TemplateResult =>
    html`<div role="gridcell" class=${cellClass(c)} data-col=${c.key} title=${title ?? nothing}>${text}</div>`;
  switch (c.key) {
    case 'index':
      return plain(String(r.index));
    case 'layer':
      return layerCell(c, r);
    case 'name':
      return html`<div role="gridcell" class=${cellClass(c)} data-col="name" title=${r.problem ?? r.stored ?? r.name}>
        ${r.problem ? html`<span class="codicon codicon-warning"></span>` : nothing}${r.stored ? html`<span class="codicon codicon-package"></span>` : nothing}${middle(r.name)}
      </div>`;
    case 'shape':
      return plain(formatShape(r.shape));
    case 'params':
      return plain(formatInt(r.params));
    case 'dtype':
      return plain(r.dtype);
    case 'sensitivity':
      return sensitivityCell(c, r);
    case 'activation':
      return activationCell(c, r, map);
    case 'absmax':
    case 'std':
    case 'kurtosis':
    case 'outlierRatio':
      return plain(formatNum(s?.[c.key]));
    default: {
      const i = sqnrAt.get(c.key) ?? -1;
      return sqnrCell(r.sqnr[i] ?? null, map, r.quantizable, c.key.slice(5), c);
    }
  }
}

/** The layer cell: the (shortened) node name truncated in the middle, op and kind; the full name on hover. */
function layerCell(c: TableColumn, r: LayerRow): TemplateResult {
  const kind = r.kind === 'unknown' ? '' : ` · ${r.kind}`;
  const title = `${r.layer} (${r.op}${r.kind === 'unknown' ? '' : `, ${r.kind}`})${r.reason ? `: ${r.reason}` : ''}`;
  return html`<div role="gridcell" class=${cellClass(c)} data-col="layer" title=${title}>
    ${middle(r.layerShort, html` <span class="muted">${r.op}${kind}</span>`)}
  </div>`;
}

/** The measured-effect cell: rank and effect from the latest evaluation, a warning badge when flagged. */
function sensitivityCell(c: TableColumn, r: LayerRow): TemplateResult {
  const s = r.sensitivity;
  if (!s)
    return html`<div role="gridcell" class=${cellClass(c, 'muted')} data-col="sensitivity">
      ${r.quantizable ? '' : '—'}
    </div>`;
  const sqnr = s.sqnrRank !== undefined ? `\nSQNR ranks it #${s.sqnrRank} of ${s.ranked} under ${s.scheme}.` : '';
  return html`<div
    role="gridcell"
    class=${cellClass(c, s.flag ? 'flagged' : '')}
    data-col="sensitivity"
    title=${`${s.flag ?? `Measured #${s.rank}: ${s.text}`}${sqnr}`}
    data-sensitivity=${s.flag ? 'flagged' : 'measured'}
  >
    ${s.flag ? html`<span class="codicon codicon-warning"></span>` : nothing}#${s.rank} ${s.text}
  </div>`;
}

/** The activation cell: the SQNR (dB) of the layer's input activation quantized alone, ⚠ when flagged, the rest on hover. */
function activationCell(c: TableColumn, r: LayerRow, map: Colormap): TemplateResult {
  const a = r.activation;
  if (!a)
    return html`<div role="gridcell" class=${cellClass(c, 'muted')} data-col="activation">
      ${r.quantizable ? '' : '—'}
    </div>`;
  const lines = [
    `${a.tensor} at ${a.bits} bits${a.inputs > 1 ? ` (worst of ${a.inputs} inputs)` : ''}`,
    `SQNR alone ${formatDb(a.sqnrAloneDb)} dB, accumulated ${formatDb(a.sqnrAccumulatedDb)} dB`,
    `clipped ${(a.clippingRate * 100).toFixed(3)}% of the evaluation values`,
    ...(a.outlierRatio !== undefined ? [`outlier ratio ${formatNum(a.outlierRatio)}`] : []),
    ...a.warnings.map((w) => `⚠ ${w}`),
  ];
  const flagged = a.warnings.length > 0;
  const i = colorIndex(a.sqnrAloneDb, SQNR_DOMAIN[0], SQNR_DOMAIN[1]);
  return html`<div
    role="gridcell"
    class=${cellClass(c, `${i < 0 ? '' : 'sqnr'}${flagged ? ' flagged' : ''}`)}
    data-col="activation"
    data-activation=${flagged ? 'flagged' : 'measured'}
    title=${lines.join('\n')}
    ${cssom(i < 0 ? {} : { background: map.css[i], color: textOn(map, i) })}
  >
    ${flagged ? html`<span class="codicon codicon-warning"></span>` : nothing}${formatDb(a.sqnrAloneDb)}
  </div>`;
}

/** A coloured SQNR cell with its value ("∞" with "exact" in its tooltip when the scheme reproduces the weight). */
export function sqnrCell(
  v: number | null,
  map: Colormap,
  applicable = true,
  scheme = '',
  c?: TableColumn,
): TemplateResult {
  const cls = c ? cellClass(c) : 'cell num';
  if (v === null || !applicable)
    return html`<div role="gridcell" class="${cls} muted" data-col=${c?.key ?? nothing}>
      ${applicable ? '…' : '—'}
    </div>`;
  const title = `${scheme ? `${scheme}: ` : ''}${v === Infinity ? '∞ (exact: no quantization error)' : `${formatDb(v)} dB`}\n${SQNR_MEANING}`;
  const i = colorIndex(v, SQNR_DOMAIN[0], SQNR_DOMAIN[1]);
  return i < 0
    ? html`<div role="gridcell" class=${cls} data-col=${c?.key ?? nothing} title=${title}>${formatDb(v)}</div>`
    : html`<div
        role="gridcell"
        class="${cls} sqnr"
        data-col=${c?.key ?? nothing}
        title=${title}
        ${cssom({ background: map.css[i], color: textOn(map, i) })}
      >
        ${formatDb(v)}
      </div>`;
}
