/**
 * The virtualized layer table: fixed-height rows, only the visible ones in the DOM, fetched from the
 * extension a page at a time for the current sort and filter (10,000+ rows scroll at full frame rate).
 */
import { html, nothing, render, type TemplateResult } from 'lit';
import { cssom } from '../cssom';
import type { LayerRow, SortKey, TableQuery } from '../../src/protocol';
import { colorIndex, SQNR_DOMAIN, textOn, type Colormap } from '../colormap';
import { formatDb, formatInt, formatNum, formatShape } from '../format';

/** Row height in CSS pixels (also in inspector.css). */
export const ROW_HEIGHT = 24;
/** Rows per table request. */
export const PAGE_SIZE = 100;

interface Column {
  key: SortKey | null;
  title: string;
  width: string;
  numeric?: boolean;
  tip?: string;
}

const BASE_COLUMNS: Column[] = [
  { key: 'index', title: '#', width: '52px', numeric: true, tip: 'Position in graph order' },
  { key: 'layer', title: 'Layer', width: 'minmax(180px, 2fr)', tip: 'Consuming node and op type' },
  { key: 'name', title: 'Tensor', width: 'minmax(140px, 1.5fr)' },
  { key: null, title: 'Shape', width: '110px' },
  { key: 'params', title: 'Params', width: '84px', numeric: true },
  { key: 'dtype', title: 'Stored', width: '72px' },
  {
    key: 'sensitivity',
    title: 'Sensitivity',
    width: '150px',
    tip: 'Measured by the latest slice evaluation: effect of quantizing only this layer (worst slice), rank; ⚠ = flagged',
  },
  { key: 'absmax', title: 'absmax', width: '72px', numeric: true },
  { key: 'std', title: 'std', width: '72px', numeric: true },
  {
    key: 'kurtosis',
    title: 'kurt.',
    width: '64px',
    numeric: true,
    tip: 'Excess kurtosis (0 for a Gaussian): heavy tails mean outliers',
  },
  {
    key: 'outlierRatio',
    title: 'absmax/std',
    width: '78px',
    numeric: true,
    tip: 'Outlier ratio: how far the largest value is from the bulk',
  },
];

/** Grid template of a row for `schemes` SQNR columns. */
export function gridTemplate(schemes: readonly string[]): string {
  return [...BASE_COLUMNS.map((c) => c.width), ...schemes.map(() => '108px')].join(' ');
}

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

/** The header row with sort buttons. */
export function tableHeader(
  schemes: readonly string[],
  query: TableQuery,
  sortBy: (key: SortKey) => void,
): TemplateResult {
  const cols: Column[] = [
    ...BASE_COLUMNS,
    ...schemes.map((s) => ({
      key: `sqnr:${s}` as SortKey,
      title: s,
      width: '108px',
      numeric: true,
      tip: `SQNR under ${s} (dB)`,
    })),
  ];
  return html`<div class="vrow vhead" role="row">
    ${cols.map((c) => {
      const sorted = c.key !== null && query.sort === c.key;
      return html`<div
        role="columnheader"
        class="cell ${c.numeric ? 'num' : ''} ${c.key ? 'sortable' : ''}"
        title=${c.tip ?? c.title}
        aria-sort=${sorted ? (query.descending ? 'descending' : 'ascending') : 'none'}
        @click=${c.key ? () => sortBy(c.key as SortKey) : nothing}
      >
        ${c.title}${sorted ? html`<span class="codicon codicon-arrow-${query.descending ? 'down' : 'up'}"></span>` : nothing}
      </div>`;
    })}
  </div>`;
}

/** Renders the visible rows of the table into `el` (positions first..last of the query's rows). */
export function renderRows(
  el: HTMLElement,
  cache: RowCache,
  first: number,
  last: number,
  selected: number | undefined,
  map: Colormap,
  select: (pos: number, row: LayerRow) => void,
): void {
  const items: TemplateResult[] = [];
  for (let pos = first; pos < Math.min(last, cache.total); pos++) {
    const r = cache.rows.get(pos);
    if (!r) {
      items.push(
        html`<div class="vrow placeholder">
          <div class="cell muted">${pos + 1}</div>
          <div class="cell muted">…</div>
        </div>`,
      );
      continue;
    }
    const s = r.stats;
    items.push(
      html`<div
        role="row"
        class="vrow ${r.index === selected ? 'selected' : ''} ${r.quantizable ? '' : 'dim'}"
        data-index=${r.index}
        aria-selected=${r.index === selected}
        @click=${() => select(pos, r)}
      >
        <div class="cell num">${r.index}</div>
        <div
          class="cell"
          title=${`${r.layer} (${r.op}${r.kind === 'unknown' ? '' : `, ${r.kind}`})${r.reason ? `: ${r.reason}` : ''}`}
        >
          ${r.layerShort} <span class="muted">${r.op}${r.kind === 'unknown' ? '' : ` · ${r.kind}`}</span>
        </div>
        <div class="cell" title=${r.problem ?? r.stored ?? r.name}>
          ${r.problem ? html`<span class="codicon codicon-warning"></span>` : nothing}${r.stored ? html`<span class="codicon codicon-package" title=${r.stored}></span>` : nothing}${r.name}
        </div>
        <div class="cell">${formatShape(r.shape)}</div>
        <div class="cell num">${formatInt(r.params)}</div>
        <div class="cell">${r.dtype}</div>
        ${sensitivityCell(r)}
        <div class="cell num">${formatNum(s?.absmax)}</div>
        <div class="cell num">${formatNum(s?.std)}</div>
        <div class="cell num">${formatNum(s?.kurtosis)}</div>
        <div class="cell num">${formatNum(s?.outlierRatio)}</div>
        ${r.sqnr.map((v) => sqnrCell(v, map, r.quantizable))}
      </div>`,
    );
  }
  render(html`${items}`, el);
}

/** The sensitivity cell: rank and effect from the latest evaluation, a warning badge when flagged. */
function sensitivityCell(r: LayerRow): TemplateResult {
  const s = r.sensitivity;
  if (!s) return html`<div class="cell muted">${r.quantizable ? '' : '—'}</div>`;
  return html`<div
    class="cell ${s.flag ? 'flagged' : ''}"
    title=${s.flag ?? s.text}
    data-sensitivity=${s.flag ? 'flagged' : 'measured'}
  >
    ${s.flag ? html`<span class="codicon codicon-warning"></span>` : nothing}#${s.rank} ${s.text}
  </div>`;
}

/** A coloured SQNR cell with its value. */
export function sqnrCell(v: number | null, map: Colormap, applicable = true): TemplateResult {
  if (v === null || !applicable) return html`<div class="cell num muted">${applicable ? '…' : '—'}</div>`;
  const i = colorIndex(v, SQNR_DOMAIN[0], SQNR_DOMAIN[1]);
  return i < 0
    ? html`<div class="cell num">${formatDb(v)}</div>`
    : html`<div class="cell num sqnr" ${cssom({ background: map.css[i], color: textOn(map, i) })}>${formatDb(v)}</div>`;
}
