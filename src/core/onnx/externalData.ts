/** Rules for external data locations (pure; the file checks themselves live in src/node). */

/**
 * Returns why an external data location is not acceptable, or undefined when it is.
 * Locations must be relative paths inside the model's folder (ONNX external data spec).
 */
export function externalLocationProblem(location: string): string | undefined {
  if (location === '') {
    return 'has no location';
  }
  if (location.includes('\0')) {
    return 'contains a NUL character';
  }
  if (location.startsWith('/') || location.startsWith('\\') || /^[a-zA-Z]:/.test(location)) {
    return 'is an absolute path; external data must be relative to the model folder';
  }
  if (location.split(/[\\/]/).includes('..')) {
    return "contains '..'; external data must stay inside the model folder";
  }
  return undefined;
}
