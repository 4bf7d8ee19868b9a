/**
 * Message values between the extension and its webviews cross as JSON, which turns Infinity and NaN into null.
 * They use the one encoding of src/core/rpc/numbers.ts in its marked form `{ $num: 'Infinity' }` (webview
 * messages have no schema to say where a number belongs); typed arrays pass through (VS Code transfers them).
 */
import { markNumbers, unmarkNumbers } from './core/rpc/numbers';

/** Prepares a message for a webview: non-finite numbers marked (typed arrays untouched). */
export function encodeNumbers(value: unknown): unknown {
  return markNumbers(value);
}

/** Restores the numbers encodeNumbers() marked. */
export function decodeNumbers(value: unknown): unknown {
  return unmarkNumbers(value);
}
