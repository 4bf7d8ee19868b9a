/** When QuantLens may write a file (pure): never through a symlink, only onto a regular file or a new name. */

/** What is at a write target, as `lstat` sees it (symlinks are not followed). */
export type TargetState =
  | { kind: 'missing' }
  | { kind: 'file'; marked: boolean }
  | { kind: 'symlink'; to: string }
  | { kind: 'other'; what: string };

/** Whether to write, ask the user first, or refuse. */
export type WriteDecision =
  { action: 'write' } | { action: 'confirm'; reason: string } | { action: 'refuse'; reason: string };

/** Decides a write to `target` given what is there; `force` stands for the user's confirmation. */
export function writeDecision(target: string, state: TargetState, force = false): WriteDecision {
  switch (state.kind) {
    case 'missing':
      return { action: 'write' };
    case 'symlink':
      return {
        action: 'refuse',
        reason: `${target} is a symlink (to ${state.to}); QuantLens never writes through a symlink. Remove the link or choose another name.`,
      };
    case 'other':
      return {
        action: 'refuse',
        reason: `${target} is ${state.what}, not a regular file; QuantLens does not write there.`,
      };
    case 'file':
      return state.marked || force
        ? { action: 'write' }
        : {
            action: 'confirm',
            reason: `${target} exists and was not made by QuantLens; it is overwritten only when you confirm.`,
          };
  }
}

/** Marker of files QuantLens writes: the `generatedBy` of plans (and any JSON it writes with one). */
export const GENERATED_BY = 'QuantLens';

/** Whether JSON text is a file QuantLens made: a results file (`format`) or a plan (`generatedBy`). */
export function isQuantLensFile(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  if (!value || typeof value !== 'object') return false;
  const { format, generatedBy } = value as { format?: unknown; generatedBy?: unknown };
  return (
    (typeof format === 'string' && format.startsWith('quantlens-')) ||
    (typeof generatedBy === 'string' && generatedBy.startsWith(GENERATED_BY))
  );
}

/** Whether a name QuantLens derives itself stays a plain file name (no folder part, no '..'). */
export function isPlainFileName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[\\/\0]/.test(name);
}
