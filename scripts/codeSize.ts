/**
 * `npm run size`: the structure targets of src/ and webview/ — no function body (declaration, method,
 * accessor, constructor, function expression or arrow function; from its first to its last line) longer than
 * MAX_FUNCTION_LINES lines, no file longer than MAX_FILE_LINES lines (as formatted by Prettier). Prints each violation and exits 1 when there are any.
 * Generated code is not measured; ALLOWED lists files that are being changed on other branches.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const ROOT = path.join(__dirname, '..');
export const MAX_FUNCTION_LINES = 60;
export const MAX_FILE_LINES = 400;
const DIRS = ['src', 'webview'];
const GENERATED = /\.generated\.ts$/;

/**
 * Files (or `dir/*`) whose violations are reported but do not fail the check, each with a comment saying why
 * (e.g. "being changed on another branch"). Empty: every file of src/ and webview/ meets the targets.
 */
const ALLOWED = new Set<string>([]);

/** One function or file over its limit. */
export interface SizeViolation {
  file: string;
  /** The function's name, or undefined for the file itself. */
  name?: string;
  /** First line (1-based). */
  line: number;
  lines: number;
  limit: number;
}

function isAllowed(file: string): boolean {
  return ALLOWED.has(file) || ALLOWED.has(path.posix.dirname(file) + '/*');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !GENERATED.test(e.name))
    .map((e) => path.posix.join(path.relative(ROOT, e.parentPath).split(path.sep).join('/'), e.name))
    .sort();
}

/** A readable name of a function node: its own, its variable's, property's or class member's. */
function functionName(node: ts.FunctionLikeDeclaration, file: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return `${className(node)}constructor`;
  if (node.name) return `${className(node)}${node.name.getText(file)}`;
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return `${className(parent)}${parent.name.getText(file)}`;
  if (ts.isCallExpression(parent)) return `(callback of ${parent.expression.getText(file).slice(0, 40)})`;
  return '(anonymous)';
}

function className(node: ts.Node): string {
  const parent = node.parent;
  return parent && ts.isClassLike(parent) && parent.name ? `${parent.name.text}.` : '';
}

/** Functions over MAX_FUNCTION_LINES and the file itself when over MAX_FILE_LINES. */
export function measureFile(file: string, text: string): SizeViolation[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lineOf = (pos: number): number => source.getLineAndCharacterOfPosition(pos).line + 1;
  const out: SizeViolation[] = [];
  const fileLines = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
  if (fileLines > MAX_FILE_LINES) out.push({ file, line: 1, lines: fileLines, limit: MAX_FILE_LINES });
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const fn = node as ts.FunctionLikeDeclaration;
      const body = fn.body as ts.Node;
      const start = lineOf(body.getStart(source));
      const lines = lineOf(body.end) - start + 1;
      if (lines > MAX_FUNCTION_LINES)
        out.push({ file, name: functionName(fn, source), line: start, lines, limit: MAX_FUNCTION_LINES });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** Every violation in src/ and webview/, with whether it is allow-listed. */
export function measureAll(): (SizeViolation & { allowed: boolean })[] {
  return DIRS.flatMap(sourceFiles).flatMap((file) =>
    measureFile(file, readFileSync(path.join(ROOT, file), 'utf8')).map((v) => ({ ...v, allowed: isAllowed(file) })),
  );
}

function describe(v: SizeViolation): string {
  const what = v.name ? `function ${v.name}` : 'file';
  return `${v.file}:${v.line}: ${what} has ${v.lines} lines (limit ${v.limit})`;
}

if (require.main === module) {
  const all = measureAll();
  const failing = all.filter((v) => !v.allowed);
  for (const v of all.filter((x) => x.allowed)) console.log(`allowed  ${describe(v)}`);
  for (const v of failing) console.error(`too long ${describe(v)}`);
  console.log(`[size] ${failing.length} violation(s), ${all.length - failing.length} allowed`);
  process.exit(failing.length ? 1 : 0);
}
