/** Text data sources: jsonl (one JSON object per line) and csv (a header row), one field per key or column. */
import { parse as parseCsv } from 'csv-parse/sync';
import { listField, type Field, type Json } from './dataFields';

/** The fields of a jsonl text. */
export function jsonlFields(text: string, file: string, pointer: string): { count: number; fields: Field[] } {
  const lines = text.split(/\r?\n/);
  const records: { [k: string]: Json }[] = [];
  const lineOf: number[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: Json;
    try {
      value = JSON.parse(line) as Json;
    } catch (error) {
      throw new Error(`line ${i + 1} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error(`line ${i + 1} is not a JSON object`);
    records.push(value);
    lineOf.push(i + 1);
  });
  if (records.length === 0) throw new Error('it holds no samples');
  const where = (i: number): string => `sample ${i} (line ${lineOf[i]} of ${file})`;
  const names = Object.keys(records[0]);
  const fields = names.map((name) => {
    const rows = records.map((r, i) => {
      if (!(name in r)) throw new Error(`${where(i)} has no field '${name}' (the first sample has it)`);
      return r[name];
    });
    return listField(name, file, rows, where, pointer);
  });
  return { count: records.length, fields };
}

/** The fields of a csv text (numbers where a cell is one). */
export function csvFields(text: string, file: string, pointer: string): { count: number; fields: Field[] } {
  const records = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  if (records.length === 0) throw new Error('it holds no rows');
  const where = (i: number): string => `sample ${i} (line ${i + 2} of ${file})`;
  const fields = Object.keys(records[0]).map((name) => {
    const rows = records.map((r) => {
      const v = r[name];
      const n = Number(v);
      return v !== '' && Number.isFinite(n) ? n : v;
    });
    return listField(name, file, rows, where, pointer);
  });
  return { count: records.length, fields };
}
