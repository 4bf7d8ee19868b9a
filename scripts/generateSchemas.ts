/**
 * Writes the scheme grammar (src/core/quant/schemeGrammar.ts) into the files that cannot import it: the JSON
 * schemas and the `quantlens.analysis.defaultSchemes` setting of package.json. Only the pattern strings change
 * (replaced in the text, so the files keep their formatting). Run: npm run schemas (`-- --check`: exit 1 when
 * a file is out of date; test/unit/schemeGrammar.test.ts checks the same).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { GRANULARITY_PATTERN, schemePattern, variantSchemePattern } from '../src/core/quant/schemeGrammar';
import { KEEP_FLOAT } from '../src/core/eval/plan';

const ROOT = path.join(__dirname, '..');

/** One pattern in one file: the path of keys to it and the value it must have. */
export interface PatternTarget {
  file: string;
  keys: string[];
  pattern: string;
}

/** Every place the grammar is written to. */
export const PATTERN_TARGETS: PatternTarget[] = [
  { file: 'schemas/evaluation.schema.json', keys: ['definitions', 'scheme', 'pattern'], pattern: schemePattern() },
  {
    file: 'schemas/evaluation.schema.json',
    keys: ['definitions', 'variantScheme', 'pattern'],
    pattern: variantSchemePattern(),
  },
  {
    file: 'schemas/evaluation.schema.json',
    keys: ['properties', 'sweep', 'oneOf', '1', 'properties', 'granularity', 'pattern'],
    pattern: GRANULARITY_PATTERN,
  },
  {
    file: 'schemas/evaluation.schema.json',
    keys: ['definitions', 'candidate', 'pattern'],
    pattern: variantSchemePattern([KEEP_FLOAT]),
  },
  {
    file: 'schemas/plan.schema.json',
    keys: ['definitions', 'scheme', 'pattern'],
    pattern: variantSchemePattern([KEEP_FLOAT]),
  },
  {
    file: 'package.json',
    keys: ['contributes', 'configuration', 'properties', 'quantlens.analysis.defaultSchemes', 'items', 'pattern'],
    pattern: schemePattern(),
  },
];

/** The value at `keys` in the JSON text (undefined when absent). */
export function valueAt(text: string, keys: string[]): unknown {
  return keys.reduce<unknown>(
    (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
    JSON.parse(text),
  );
}

/** The text with the pattern of `target` set; throws when the old value is missing or not unique in the text. */
function withPattern(text: string, target: PatternTarget): string {
  const old = valueAt(text, target.keys);
  if (typeof old !== 'string') throw new Error(`${target.file}: no pattern at ${target.keys.join('.')}`);
  if (old === target.pattern) return text;
  const needle = `"pattern": ${JSON.stringify(old)}`;
  if (text.split(needle).length !== 2) throw new Error(`${target.file}: ${needle} is not unique`);
  return text.replace(needle, `"pattern": ${JSON.stringify(target.pattern)}`);
}

/** Targets whose file does not hold the grammar's pattern. */
export function outOfDate(root = ROOT): PatternTarget[] {
  return PATTERN_TARGETS.filter((t) => valueAt(readFileSync(path.join(root, t.file), 'utf8'), t.keys) !== t.pattern);
}

if (require.main === module) {
  if (process.argv.includes('--check')) {
    const stale = outOfDate();
    for (const t of stale) console.error(`${t.file}: ${t.keys.join('.')} is out of date (npm run schemas)`);
    process.exit(stale.length ? 1 : 0);
  }
  for (const file of new Set(PATTERN_TARGETS.map((t) => t.file))) {
    const before = readFileSync(path.join(ROOT, file), 'utf8');
    const after = PATTERN_TARGETS.filter((t) => t.file === file).reduce(withPattern, before);
    if (after !== before) writeFileSync(path.join(ROOT, file), after);
    console.log(`[schemas] ${file}: ${after === before ? 'up to date' : 'written'}`);
  }
}
