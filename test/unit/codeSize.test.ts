import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_FILE_LINES, MAX_FUNCTION_LINES, measureFile } from '../../scripts/codeSize';

const body = (n: number): string => Array.from({ length: n - 2 }, (_, i) => `  x += ${i};`).join('\n');

test('code size: function bodies over the limit are reported by name, at their limit they are not', () => {
  const text = [
    `export function ok(): void {\n${body(MAX_FUNCTION_LINES)}\n}`,
    `export function long(): void {\n${body(MAX_FUNCTION_LINES + 1)}\n}`,
    `class A {\n  method(): void {\n${body(MAX_FUNCTION_LINES + 5)}\n  }\n}`,
    `const arrow = (): void => {\n${body(MAX_FUNCTION_LINES + 2)}\n};`,
    `run(() => {\n${body(MAX_FUNCTION_LINES + 3)}\n});`,
  ].join('\n');
  const found = measureFile('x.ts', text).map((v) => [v.name, v.lines]);
  assert.deepEqual(found, [
    ['long', MAX_FUNCTION_LINES + 1],
    ['A.method', MAX_FUNCTION_LINES + 5],
    ['arrow', MAX_FUNCTION_LINES + 2],
    ['(callback of run)', MAX_FUNCTION_LINES + 3],
  ]);
});

test('code size: a file over the limit is reported, one at the limit is not', () => {
  const lines = (n: number): string => 'const a = 1;\n'.repeat(n);
  assert.deepEqual(measureFile('a.ts', lines(MAX_FILE_LINES)), []);
  assert.deepEqual(
    measureFile('b.ts', lines(MAX_FILE_LINES + 1)).map((v) => [v.name, v.lines]),
    [[undefined, MAX_FILE_LINES + 1]],
  );
});
