/**
 * The metadata_props QuantLens records in a model it exports (plan or scheme, source SHA-256, version). The
 * `quantlens.export` entry is also the exported-model marker of the write policy: it is written first, so the
 * first bytes of the file tell whether QuantLens made it.
 */
import { scanFields, stringField } from './wire';

/** Key of the marker entry (its value: JSON of what was exported). */
export const EXPORT_MARKER_KEY = 'quantlens.export';

/** What a model QuantLens exported records about itself. */
export interface ExportRecord {
  /** `plan:<file>` or the scheme id. */
  from: string;
  accuracyLevel: number;
  sourceSha256: string;
  version: string;
  /** Weights exported quantized, and left float. */
  exported: number;
  leftFloat: number;
  /** Static QDQ: activations quantized, and Relus folded into their output's range. */
  activations?: number;
  foldedRelus?: number;
  /** Static QDQ: the data its activations were calibrated on (what a results view says about the file). */
  calibration?: ExportCalibrationRecord;
}

/** Where an export's activation ranges came from. */
export interface ExportCalibrationRecord {
  /** `split of the evaluation data`, `slice <name>`, or the calibration data's paths. */
  source: string;
  samples: number;
  seed: number;
  method: string;
  percentile?: number;
  /** The spec's file name. */
  spec: string;
}

/** The metadata_props entries recording an export (the marker first). */
export function exportMetadata(record: ExportRecord, planText?: string): [string, string][] {
  const entries: [string, string][] = [
    [EXPORT_MARKER_KEY, JSON.stringify(record)],
    ['quantlens.source_sha256', record.sourceSha256],
    ['quantlens.version', record.version],
  ];
  if (planText !== undefined) entries.push(['quantlens.plan', planText]);
  return entries;
}

/** Whether `head` (the first bytes of a file, possibly cut short) is an ONNX model starting with QuantLens's marker. */
export function isExportedModel(head: Uint8Array): boolean {
  let fields;
  try {
    // The marker is the first field; read only whole fields at the start of the cut.
    fields = scanFields(head, 0, Math.min(head.length, firstFieldEnd(head)));
  } catch {
    return false;
  }
  const first = fields[0];
  return (
    first !== undefined && first.field === 14 && first.wire === 2 && stringField(head, first, 1) === EXPORT_MARKER_KEY
  );
}

/** End of the first length-delimited field of `bytes`, or 0 when it does not fit. */
function firstFieldEnd(bytes: Uint8Array): number {
  let pos = 0;
  const readVarint = (): number => {
    let v = 0;
    for (let shift = 0; pos < bytes.length && shift < 35; shift += 7) {
      const b = bytes[pos++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
    return -1;
  };
  const tag = readVarint();
  if (tag < 0 || (tag & 7) !== 2) return 0;
  const length = readVarint();
  return length < 0 || pos + length > bytes.length ? 0 : pos + length;
}
