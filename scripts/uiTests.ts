export async function runUiTests(_c: string, _o: { vsix?: string; verbose?: boolean }) { return { passed: 0, failed: 0 }; }
