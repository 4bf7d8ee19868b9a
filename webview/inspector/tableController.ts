/** The layer table's controller: query (sort, filter), paged rows fetched for the visible range, selection by mouse and keys. */
import { html, nothing, type TemplateResult } from 'lit';
import type { LayerRow, SortKey, TableQuery } from '../../src/protocol';
import { colormap } from '../colormap';
import { cssom } from '../cssom';
import { request } from '../rpc';
import type { InspectorState } from './state';
import {
  columnGeometry,
  layerColumns,
  offscreenColumns,
  type ColumnGeometry,
  type TableColumn,
} from '../../src/core/view/tableColumns';
import { PAGE_SIZE, renderRows, RowCache, ROW_HEIGHT, tableHeader } from './tableView';
import { HEADER_HEIGHT, tableHeight } from '../../src/core/view/tableHeader';
import { reportError, type Ui } from './ui';

const formatCount = (n: number): string => n.toLocaleString('en-US');

/** Keys that move the selection, and by how many rows. */
const KEY_STEPS: Record<string, number> = {
  ArrowDown: 1,
  ArrowUp: -1,
  PageDown: 20,
  PageUp: -20,
  Home: -Infinity,
  End: Infinity,
};

/** Renders the layer table and reacts to its input; `onSelect` runs when another weight is selected. */
export class TableController {
  constructor(
    private readonly s: InspectorState,
    private readonly ui: Ui,
    private readonly onSelect: () => void,
  ) {}

  /** Forgets the rows (a new query or new schemes); the selected weight stays. */
  reset(): void {
    const t = this.s.table;
    t.cache = new RowCache();
    t.searching = new Set();
    t.selectedPos = undefined;
  }

  /** Selects a weight by name wherever it is among the rows (commands, heatmap clicks). */
  reveal(weight: string): void {
    this.s.persisted.weight = weight;
    this.s.table.selectedIndex = undefined;
    this.s.table.selectedPos = undefined;
    this.locateSelection();
  }

  /** The filter tools and the (empty) virtual grid; rows are drawn into it by drawRows(). */
  view(): TemplateResult {
    const q = this.s.persisted.query;
    const total = this.s.table.cache.total;
    return html`
      ${this.tools(q, total)} ${this.s.notice ? html`<p class="error-text">${this.s.notice}</p>` : nothing}
      <div
        class="table-viewport"
        role="grid"
        tabindex="0"
        aria-label="Layers"
        aria-rowcount=${total + 1}
        aria-colcount=${this.columns().length}
        @scroll=${() => this.onScroll()}
        @keydown=${(e: KeyboardEvent) => this.onKey(e)}
        data-table-virtual="layers"
      >
        ${tableHeader(this.columns(), q, (key) => this.sortBy(key))}
        <div class="table-spacer" ${cssom({ height: `${total * ROW_HEIGHT}px` })}>
          <div class="table-rows"></div>
        </div>
      </div>
    `;
  }

  private tools(q: TableQuery, total: number): TemplateResult {
    const value = (e: Event): string => (e.target as HTMLInputElement | HTMLSelectElement).value;
    return html`<div class="table-tools">
      <input
        class="filter"
        type="search"
        placeholder="Filter by layer, op or tensor"
        aria-label="Filter"
        .value=${q.text}
        @input=${(e: Event) => this.setQuery({ text: value(e) })}
      />
      <select aria-label="Op type" @change=${(e: Event) => this.setQuery({ op: value(e) })}>
        <option value="" ?selected=${q.op === ''}>all ops</option>
        ${(this.s.status?.ops ?? []).map((op) => html`<option value=${op} ?selected=${q.op === op}>${op}</option>`)}
      </select>
      <label
        ><input
          type="checkbox"
          ?checked=${q.quantizableOnly}
          @change=${(e: Event) => this.setQuery({ quantizableOnly: (e.target as HTMLInputElement).checked })}
        />
        quantizable only</label
      >
      <span class="muted" data-field="tableCount">${formatCount(total)} row${total === 1 ? '' : 's'}</span>
      <button class="cols-hint" data-field="columnsHint" hidden @click=${() => this.scrollColumns()}></button>
      <span class="spacer"></span>
      <vscode-button secondary icon="desktop-download" @click=${() => this.exportTable('csv')}>CSV</vscode-button>
      <vscode-button secondary icon="json" @click=${() => this.exportTable('json')}>JSON</vscode-button>
    </div>`;
  }

  /** Renders the visible rows (on every scroll, without re-rendering the rest). */
  drawRows(): void {
    const times = __QUANTLENS_TEST_HOOKS__ ? this.s.test.rowTimes : undefined;
    if (!times) return this.drawVisibleRows();
    const started = performance.now();
    this.drawVisibleRows();
    times.push(performance.now() - started);
  }

  /** The columns shown: the measured-effect (and activation) column only once an evaluation measured this model. */
  private columns(): TableColumn[] {
    const measured = this.s.status?.sensitivity ? this.s.table.measuredScheme : undefined;
    return layerColumns(this.s.status?.schemes ?? [], measured, this.s.status?.activations);
  }

  private drawVisibleRows(): void {
    const t = this.s.table;
    t.viewport = document.querySelector('#app .table-viewport');
    const rowsEl = document.querySelector<HTMLElement>('#app .table-rows');
    if (!t.viewport || !rowsEl || this.s.persisted.tab !== 'layers') return;
    const columns = this.columns();
    const g = columnGeometry(columns, t.viewport.clientWidth);
    // One geometry for the header and every row, through CSS variables set with CSSOM (the CSP forbids style attributes).
    t.viewport.style.setProperty('--columns', g.template);
    t.viewport.style.setProperty('--row-width', `${g.total}px`);
    t.viewport.style.setProperty('--pin-layer', `${g.lefts[1]}px`);
    fitHeight(t.viewport, t.cache.loaded ? t.cache.total : 8);
    const [first, last] = this.visibleRange();
    rowsEl.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    const map = colormap(this.s.settings.colormap);
    const select = (pos: number, row: LayerRow): void => this.selectRow(pos, row);
    renderRows(rowsEl, columns, t.cache, [first, last], t.selectedIndex, map, select);
    this.showColumnsHint(columns, g);
    this.fetchPages(first, last);
  }

  /** The hint that columns are scrolled out of view (a button that scrolls to them). */
  private showColumnsHint(columns: TableColumn[], g: ColumnGeometry): void {
    const viewport = this.s.table.viewport;
    const hint = document.querySelector<HTMLButtonElement>('#app [data-field="columnsHint"]');
    if (!viewport || !hint) return;
    const off = offscreenColumns(columns, g, viewport.scrollLeft, viewport.clientWidth);
    const n = off.right.length || off.left.length;
    hint.hidden = n === 0;
    hint.dataset.direction = off.right.length ? 'right' : 'left';
    hint.textContent = off.right.length
      ? `${n} more column${n === 1 ? '' : 's'} →`
      : `← ${n} column${n === 1 ? '' : 's'} to the left`;
    hint.title = `Scrolled out of view: ${(off.right.length ? off.right : off.left).join(', ')}. Click (or scroll sideways) to see them.`;
  }

  private scrollColumns(): void {
    const viewport = this.s.table.viewport;
    if (!viewport) return;
    const right = document.querySelector<HTMLElement>('#app [data-field="columnsHint"]')?.dataset.direction === 'right';
    viewport.scrollBy({ left: right ? viewport.clientWidth / 2 : -viewport.scrollWidth });
  }

  private visibleRange(): [number, number] {
    const top = this.s.table.viewport?.scrollTop ?? 0;
    const height = this.s.table.viewport?.clientHeight ?? 480;
    const top0 = Math.floor(top / ROW_HEIGHT);
    return [Math.max(0, top0 - 4), top0 + Math.ceil(height / ROW_HEIGHT) + 4];
  }

  private setQuery(change: Partial<TableQuery>): void {
    this.s.persisted.query = { ...this.s.persisted.query, ...change };
    this.ui.save();
    this.reset();
    if (this.s.table.viewport) this.s.table.viewport.scrollTop = 0;
    this.ui.update();
  }

  private sortBy(key: SortKey): void {
    const q = this.s.persisted.query;
    // SQNR columns start worst first; the others ascending.
    this.setQuery(q.sort === key ? { descending: !q.descending } : { sort: key, descending: false });
  }

  private fetchPages(first: number, last: number): void {
    const t = this.s.table;
    // Before the first page the total is unknown: ask for page 0 (once).
    const target = t.cache;
    for (const page of target.missingPages(first, target.loaded ? Math.min(last, target.total) : 1)) {
      if (t.pagesInFlight > 2) break;
      target.markRequested(page);
      t.pagesInFlight++;
      request('table/page', { query: this.s.persisted.query, offset: page, limit: PAGE_SIZE })
        .then((p) => {
          if (target !== t.cache) return;
          const totalChanged = target.total !== p.total;
          target.fill(p.offset, p.rows, p.total);
          const scheme = p.rows.find((r) => r.sensitivity?.scheme)?.sensitivity?.scheme;
          const schemeChanged = scheme !== undefined && scheme !== t.measuredScheme;
          if (scheme !== undefined) t.measuredScheme = scheme;
          this.locateSelection();
          const [shownFirst, shownLast] = this.visibleRange();
          if (totalChanged || schemeChanged) this.ui.update();
          else if (p.offset < shownLast && p.offset + p.rows.length > shownFirst) this.drawRows();
        }, reportError)
        .finally(() => {
          t.pagesInFlight--;
        });
    }
  }

  /** Finds the remembered weight among the rows of the current query, scrolls to it and selects it. */
  private findWeight(name: string): void {
    const t = this.s.table;
    const target = t.cache;
    const query = this.s.persisted.query;
    request('table/page', { query, offset: 0, limit: 0, find: name })
      .then((p) => {
        if (target !== t.cache || p.found === undefined || p.found < 0) return;
        const pos = p.found;
        return request('table/page', { query, offset: pos, limit: 1 }).then((one) => {
          if (target !== t.cache || !one.rows[0]) return;
          if (t.viewport) t.viewport.scrollTop = Math.max(0, (pos - 3) * ROW_HEIGHT);
          this.selectRow(pos, one.rows[0], false);
        });
      })
      .catch(reportError)
      .finally(() => t.searching.delete(name));
  }

  private locateSelection(): void {
    const t = this.s.table;
    const weight = this.s.persisted.weight;
    if (t.selectedIndex === undefined && weight) {
      let found = false;
      for (const [pos, r] of t.cache.rows) {
        if (r.name === weight) {
          this.selectRow(pos, r, false);
          found = true;
        }
      }
      if (!found && t.cache.total > 0 && !t.searching.has(weight)) {
        t.searching.add(weight);
        this.findWeight(weight);
      }
    } else if (t.selectedIndex !== undefined && t.selectedPos === undefined) {
      for (const [pos, r] of t.cache.rows) if (r.index === t.selectedIndex) t.selectedPos = pos;
    }
  }

  private onScroll(): void {
    this.s.persisted.tableScroll = this.s.table.viewport?.scrollTop ?? 0;
    this.drawRows();
  }

  private selectRow(pos: number, row: LayerRow, user = true): void {
    const t = this.s.table;
    t.selectedPos = pos;
    if (t.selectedIndex === row.index) return;
    t.selectedIndex = row.index;
    this.s.persisted.weight = row.name;
    if (user) this.ui.save();
    this.onSelect();
    this.ui.update();
  }

  private onKey(e: KeyboardEvent): void {
    const t = this.s.table;
    const step = KEY_STEPS[e.key];
    const total = t.cache.total;
    if (step === undefined || total === 0) return;
    e.preventDefault();
    const move = Number.isFinite(step) ? step : step > 0 ? total : -total;
    const pos = Math.max(0, Math.min(total - 1, (t.selectedPos ?? -1) + move));
    this.scrollIntoView(pos);
    const row = t.cache.rows.get(pos);
    if (row) this.selectRow(pos, row);
    else {
      t.selectedPos = pos;
      request('table/page', { query: this.s.persisted.query, offset: pos, limit: 1 }).then(
        (p) => p.rows[0] && this.selectRow(pos, p.rows[0]),
        reportError,
      );
    }
  }

  private scrollIntoView(pos: number): void {
    const viewport = this.s.table.viewport;
    if (!viewport) return;
    const top = pos * ROW_HEIGHT;
    const header = HEADER_HEIGHT;
    if (top < viewport.scrollTop) viewport.scrollTop = top;
    else if (top + ROW_HEIGHT > viewport.scrollTop + viewport.clientHeight - header)
      viewport.scrollTop = top + ROW_HEIGHT - viewport.clientHeight + header;
  }

  private exportTable(format: 'csv' | 'json'): void {
    request('table/export', { query: this.s.persisted.query, format }).catch(reportError);
  }
}

/**
 * Sizes the table to the room left in the window below its top (whatever the page's scroll), in whole rows: no row
 * half cut at the bottom edge, the horizontal scrollbar counted. Called on every draw, so window resizes refit it.
 */
function fitHeight(viewport: HTMLElement, rows: number): void {
  const style = getComputedStyle(viewport);
  const border = parseFloat(style.borderTopWidth) + parseFloat(style.borderBottomWidth);
  const scrollbar = Math.max(0, viewport.offsetHeight - viewport.clientHeight - border);
  const top = viewport.getBoundingClientRect().top + window.scrollY;
  const height = `${tableHeight(window.innerHeight - top - 12, rows, ROW_HEIGHT, { border, scrollbar })}px`;
  if (viewport.style.height !== height) viewport.style.height = height;
}
