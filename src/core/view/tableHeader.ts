/**
 * The layer table's header and height (issue 17 walk-through): header names on up to two lines, broken at a space
 * or after "-", "/", "+"; every column is wide enough for its name whole next to the sort arrow, so sorting may move
 * a name to two lines but never cuts it; a name too long for two lines keeps its start and its end
 * ("int4-block32+a8-…" / "…percentile"). The table's height: the room left in the window, in whole rows.
 */

/** Height of the two-line header row in CSS pixels (also in inspector.css). */
export const HEADER_HEIGHT = 36;
/** Horizontal padding of a header cell (both sides) and the room of the sort arrow, in CSS pixels. */
export const HEADER_PADDING = 10;
export const ARROW_ROOM = 15;
/** A generous width of one character of the header font (13 px, semibold), so estimates err on the wide side. */
export const CHAR_WIDTH = 7.8;

/** Pieces of a name that may end a line: "Measured · int4-block32" -> "Measured ", "· ", "int4-", "block32". */
function pieces(title: string, breaks: RegExp): string[] {
  return title.match(breaks) ?? [title];
}
const AT_SPACES = /[^ ]* |[^ ]+$/g;
const AT_ANY = /[^-/+ ]*[-/+ ]|[^-/+ ]+$/g;

/** Width of a text in the header font: an estimate by default, the webview passes a real measurement. */
export type Measure = (text: string) => number;
const estimate: Measure = (text) => text.length * CHAR_WIDTH;

/** Greedy lines of `title` broken at `breaks`, each at most `room` px wide; undefined when more than two or too wide. */
function wrap(title: string, breaks: RegExp, room: number, measure: Measure): string[] | undefined {
  const lines: string[] = [''];
  for (const p of pieces(title, breaks)) {
    const last = lines.length - 1;
    if (lines[last] && measure((lines[last] + p).trimEnd()) > room) lines.push(p);
    else lines[last] += p;
  }
  const trimmed = lines.map((l) => l.trimEnd());
  return trimmed.length <= 2 && trimmed.every((l) => measure(l) <= room) ? trimmed : undefined;
}

/** The smallest width from `width` up that shows `title` whole (on one or two lines, next to the sort arrow). */
export function headerWidth(title: string, width: number): number {
  let w = width;
  while (!headerLines(title, w).whole) w += 2;
  return w;
}

/**
 * The lines a header shows in a column `width` px wide, next to the sort arrow when `arrow` (columns are made wide
 * enough for that, so sorting may move a name to two lines but never cuts it): the whole name on one line, else on two (broken at a space
 * first, so "Measured ·" / "int4-block32" keeps the scheme whole, then after "-", "/" or "+"); a name too long for
 * two lines keeps its start and its end around an ellipsis (the full name stays in the tooltip).
 */
export function headerLines(
  title: string,
  width: number,
  measure: Measure = estimate,
  arrow = true,
): { lines: string[]; whole: boolean } {
  const room = width - HEADER_PADDING - (arrow ? ARROW_ROOM : 0);
  if (measure(title) <= room) return { lines: [title], whole: true };
  const lines = wrap(title, AT_SPACES, room, measure) ?? wrap(title, AT_ANY, room, measure);
  if (lines) return { lines, whole: true };
  // Cut in the middle: the first line keeps the start, the second the end.
  let head = title;
  while (head.length > 1 && measure(`${head}…`) > room) head = head.slice(0, -1);
  let tail = title.slice(head.length);
  while (tail.length > 1 && measure(`…${tail}`) > room) tail = tail.slice(1);
  return { lines: [`${head.trimEnd()}…`, `…${tail.trimStart()}`], whole: false };
}

/**
 * The table's height (CSS px, border-box, the horizontal scrollbar's `scrollbar` px included): the header and as many
 * whole rows as fit in `available` px, never more rows than there are, never fewer than `minRows` (then the page
 * scrolls); no row is cut by the table's bottom edge.
 */
export function tableHeight(
  available: number,
  rows: number,
  rowHeight: number,
  options: { border?: number; scrollbar?: number; minRows?: number } = {},
): number {
  const { border = 2, scrollbar = 0, minRows = 8 } = options;
  const fit = Math.floor((available - HEADER_HEIGHT - border - scrollbar) / rowHeight);
  const shown = Math.max(1, Math.min(rows, Math.max(fit, minRows)));
  return HEADER_HEIGHT + shown * rowHeight + border + scrollbar;
}
