/**
 * The layer table's columns and their one geometry (issue 17): every row and the header use the same pixel
 * tracks, computed once from the available width, so no row's content can move its cells. The first columns
 * (#, layer) are pinned; the SQNR columns follow them so the headline numbers are on screen first.
 */
import type { SortKey } from './layerTableView';
import { headerWidth } from './tableHeader';

/** What a column shows (a sort key, or a column that cannot be sorted). */
export type ColumnKey = SortKey | 'shape';

/** One column of the layer table. */
export interface TableColumn {
  key: ColumnKey;
  /** Sort key, or null when the column cannot be sorted. */
  sort: SortKey | null;
  title: string;
  /** Width in CSS pixels (the layer column's smallest width: it takes the room left). */
  width: number;
  numeric: boolean;
  tip: string;
  /** Stays in view when the table scrolls sideways. */
  pinned: boolean;
}

/** What the SQNR numbers mean, in every SQNR tooltip. */
export const SQNR_MEANING =
  'SQNR: signal-to-quantization-noise ratio of the weight, in dB (higher is better; about 6 dB per bit of resolution). ' +
  'How it relates to accuracy is model-specific: measure it with a slice evaluation.';

/** The layer column's largest width: it fills what # and the SQNR columns leave, up to this. */
const LAYER_MAX = 400;

/** Width of an SQNR column for a scheme id: room for the id in most cases, compact for short ones. */
export function sqnrColumnWidth(id: string): number {
  return Math.max(76, Math.min(118, Math.round(6.5 * id.length + 30)));
}

/** What the activation column's numbers mean (its tooltip). */
export const ACTIVATION_MEANING =
  'Activation SQNR: the SQNR (dB) of the layer’s input activation with only that activation quantized, as the latest ' +
  'evaluation calibrated and measured it on its data (hover a cell for the accumulated SQNR, clipping and outliers; ⚠ = flagged).';

/** The activation column (issue 20), labelled with the activation bits ("Act. a8"). */
function activationColumn(bits: string): TableColumn {
  const title = bits ? `Act. ${bits}` : 'Activation';
  return {
    key: 'activation',
    sort: 'activation',
    title,
    width: 84,
    numeric: true,
    pinned: false,
    tip: ACTIVATION_MEANING,
  };
}

/**
 * The columns for these schemes. `measuredScheme` is the scheme the latest evaluation ranked the layers with ('' while
 * not known yet; undefined before any evaluation: then the measured-effect column, which would be empty, is not shown).
 * `activations` labels the activation column ("a8") once an evaluation quantized activations (undefined: not shown).
 */
export function layerColumns(schemes: readonly string[], measuredScheme?: string, activations?: string): TableColumn[] {
  // Every column wide enough for its header whole on two lines next to the sort arrow (sorting never cuts a name).
  const col = (c: Omit<TableColumn, 'sort' | 'numeric' | 'pinned'> & Partial<TableColumn>): TableColumn => ({
    sort: c.key === 'shape' ? null : c.key,
    numeric: false,
    pinned: false,
    ...c,
    width: c.key === 'layer' ? c.width : headerWidth(c.title, c.width),
  });
  const measured =
    measuredScheme === undefined
      ? []
      : [
          col({
            key: 'sensitivity',
            title: measuredScheme ? `Measured · ${measuredScheme}` : 'Measured effect',
            width: 168,
            tip:
              `Measured by the latest slice evaluation: the effect of quantizing only this layer to ${measuredScheme || 'the ranking scheme'} ` +
              '(worst slice) and its rank (#1 = most sensitive); ⚠ = flagged. This is what SQNR can only estimate.',
          }),
        ];
  const activation = activations === undefined ? [] : [activationColumn(activations)];
  return [
    col({ key: 'index', title: '#', width: 44, numeric: true, pinned: true, tip: 'Position in graph order' }),
    col({ key: 'layer', title: 'Layer', width: 220, pinned: true, tip: 'Consuming node, op type and layer kind' }),
    ...measured,
    ...activation,
    ...schemes.map((s) =>
      col({
        key: `sqnr:${s}`,
        title: s,
        width: sqnrColumnWidth(s),
        numeric: true,
        tip: `SQNR under ${s} (dB). ${SQNR_MEANING}`,
      }),
    ),
    col({ key: 'name', title: 'Tensor', width: 150, tip: 'Weight tensor (initializer) name' }),
    col({ key: 'shape', title: 'Shape', width: 92, tip: 'Tensor shape' }),
    col({ key: 'params', title: 'Params', width: 72, numeric: true, tip: 'Number of values' }),
    col({ key: 'dtype', title: 'Stored', width: 62, tip: 'Element type as stored in the model' }),
    col({ key: 'absmax', title: 'absmax', width: 64, numeric: true, tip: 'Largest absolute value' }),
    col({ key: 'std', title: 'std', width: 60, numeric: true, tip: 'Standard deviation' }),
    col({
      key: 'kurtosis',
      title: 'kurt.',
      width: 56,
      numeric: true,
      tip: 'Excess kurtosis (0 for a Gaussian): heavy tails mean outliers',
    }),
    col({
      key: 'outlierRatio',
      title: 'absmax/std',
      width: 78,
      numeric: true,
      tip: 'absmax / std, the outlier ratio: how far the largest value is from the bulk',
    }),
  ];
}

/** Pixel tracks of the columns: the same for the header and every row. */
export interface ColumnGeometry {
  widths: number[];
  /** Left edge of each column from the row's start. */
  lefts: number[];
  /** Width of a whole row. */
  total: number;
  /** Right edge of the pinned columns. */
  pinnedWidth: number;
  /** CSS grid-template-columns value (pixels only: nothing content-sized). */
  template: string;
}

/**
 * The geometry for `available` CSS pixels: the layer column takes what the headline columns (the pinned ones,
 * the measured effect and the SQNR columns) leave, within its bounds; the other columns may need scrolling.
 */
export function columnGeometry(columns: readonly TableColumn[], available: number): ColumnGeometry {
  const headline = (c: TableColumn): boolean =>
    c.pinned || c.key === 'sensitivity' || c.key === 'activation' || c.key.startsWith('sqnr:');
  const others = columns.reduce((s, c) => (c.key === 'layer' || !headline(c) ? s : s + c.width), 0);
  const widths = columns.map((c) =>
    c.key === 'layer' ? Math.round(Math.max(c.width, Math.min(LAYER_MAX, available - others))) : c.width,
  );
  const lefts: number[] = [];
  let x = 0;
  for (const w of widths) {
    lefts.push(x);
    x += w;
  }
  const pinned = columns.reduce((s, c, i) => (c.pinned ? Math.max(s, lefts[i] + widths[i]) : s), 0);
  return { widths, lefts, total: x, pinnedWidth: pinned, template: widths.map((w) => `${w}px`).join(' ') };
}

/** Columns (titles) scrolled out of view to the left and to the right, for the "more columns" hint. */
export function offscreenColumns(
  columns: readonly TableColumn[],
  g: ColumnGeometry,
  scrollLeft: number,
  clientWidth: number,
): { left: string[]; right: string[] } {
  const left: string[] = [];
  const right: string[] = [];
  columns.forEach((c, i) => {
    if (c.pinned) return;
    // Half a column or more hidden counts as off-screen.
    const mid = g.lefts[i] + g.widths[i] / 2;
    if (mid < scrollLeft + g.pinnedWidth) left.push(c.title);
    else if (mid > scrollLeft + clientWidth) right.push(c.title);
  });
  return { left, right };
}

/**
 * A name split for truncation in the middle: the head may be cut (with an ellipsis), the tail always shows. The
 * tail starts at a separator when there is one, so "/blocks/blocks.0/attn/qkv/MatMul" keeps "/qkv/MatMul".
 */
export function splitMiddle(text: string, maxTail = 18): [string, string] {
  if (text.length <= 12) return [text, ''];
  let start = Math.max(text.length - maxTail, Math.ceil(text.length / 2));
  const sep = text.slice(start).search(/[/._:-]/);
  if (sep > 0 && start + sep < text.length - 3) start += sep;
  // A path's last two parts: torch names end in the op ("/norm1/LayerNormalization"), the part before tells rows apart.
  const parent = text.lastIndexOf('/', text.lastIndexOf('/') - 1);
  if (parent > 0 && parent < start && text.length - parent <= 40) start = parent;
  return [text.slice(0, start), text.slice(start)];
}
