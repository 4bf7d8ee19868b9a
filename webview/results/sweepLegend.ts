/** The sweep's legend: one toggle per slice (click to hide or show its line), a filter for many slices, values under the cursor. */
import { el } from './dom';
import { styleKey, type LineStyle } from './palette';

/** Slices from which the legend offers a filter box. */
export const FILTER_FROM = 9;

/** What the legend controls. */
export interface LegendHooks {
  /** Shows or hides slice i's line. */
  setShown(i: number, shown: boolean): void;
}

/** A small sample of the line's style (colour and dash) as an inline SVG. */
function swatch(style: LineStyle, bold: boolean): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', '28');
  svg.setAttribute('height', '10');
  svg.setAttribute('aria-hidden', 'true');
  const line = document.createElementNS(ns, 'line');
  for (const [k, v] of Object.entries({ x1: '1', y1: '5', x2: '27', y2: '5' })) line.setAttribute(k, v);
  line.setAttribute('stroke', style.color);
  line.setAttribute('stroke-width', bold ? '3' : '2');
  if (style.dash.length > 0) line.setAttribute('stroke-dasharray', style.dash.join(' '));
  // The point marker as in the chart: filled, or hollow for every second group of ten lines.
  const dot = document.createElementNS(ns, 'circle');
  for (const [k, v] of Object.entries({ cx: '14', cy: '5', r: style.hollow ? '3' : '2.5' })) dot.setAttribute(k, v);
  dot.setAttribute('stroke', style.color);
  dot.setAttribute('fill', style.hollow ? 'none' : style.color);
  svg.append(line, dot);
  svg.dataset.style = styleKey(style);
  return svg;
}

/** The legend for `names` (appended to `parent`); returns a setter of the values shown under the cursor. */
export function sweepLegend(
  parent: HTMLElement,
  names: string[],
  styles: LineStyle[],
  hidden: Set<string>,
  hooks: LegendHooks,
): (values: (string | undefined)[]) => void {
  const legend = el('div', 'sweep-legend');
  legend.setAttribute('role', 'group');
  legend.setAttribute('aria-label', 'Slices in the sweep (click to hide or show)');
  let filter = '';
  const buttons = names.map((name, i) => {
    const b = el('button', 'sweep-entry');
    b.dataset.slice = name;
    b.title = `${name}: click to hide or show its line`;
    const value = el('span', 'sweep-value');
    b.append(swatch(styles[i], name === 'all'), el('span', 'sweep-name', name), value);
    b.addEventListener('click', () => {
      if (hidden.has(name)) hidden.delete(name);
      else hidden.add(name);
      update();
    });
    return { b, value };
  });
  const update = (): void => {
    names.forEach((name, i) => {
      const matches = filter === '' || name.toLowerCase().includes(filter);
      const shown = matches && !hidden.has(name);
      buttons[i].b.setAttribute('aria-pressed', String(shown));
      buttons[i].b.classList.toggle('off', !shown);
      buttons[i].b.hidden = !matches;
      hooks.setShown(i, shown);
    });
  };
  if (names.length >= FILTER_FROM) legend.append(filterControls(names, hidden, (f) => ((filter = f), update())));
  legend.append(...buttons.map((x) => x.b));
  parent.append(legend);
  update();
  return (values) => buttons.forEach((x, i) => (x.value.textContent = values[i] ?? ''));
}

/** The filter box and "show all" / "hide all" for many slices. */
function filterControls(names: string[], hidden: Set<string>, setFilter: (f: string) => void): HTMLElement {
  const row = el('div', 'sweep-controls');
  const input = el('input', 'sweep-filter');
  input.type = 'search';
  input.placeholder = `Filter ${names.length} slices`;
  input.setAttribute('aria-label', 'Filter the slices of the sweep');
  input.addEventListener('input', () => setFilter(input.value.trim().toLowerCase()));
  const all = el('button', 'sweep-all', 'Show all');
  all.addEventListener('click', () => (hidden.clear(), setFilter(input.value.trim().toLowerCase())));
  const none = el('button', 'sweep-none', 'Hide all');
  none.addEventListener(
    'click',
    () => (names.forEach((n) => hidden.add(n)), setFilter(input.value.trim().toLowerCase())),
  );
  row.append(input, all, none);
  return row;
}
