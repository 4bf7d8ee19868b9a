/** Errors raised while reading a model: each says what is wrong and, when known, where. */

/** Why a model could not be read. */
export type ModelErrorCode =
  'empty-file' | 'other-format' | 'decode-failed' | 'not-onnx' | 'too-large' | 'external-data' | 'not-a-file' | 'io';

/** Plain-data form of a ModelError, safe to post to a webview or a worker. */
export interface ModelErrorInfo {
  code: ModelErrorCode;
  message: string;
  /** Byte offset at which decoding stopped, when the decoder reported it. */
  offset?: number;
  /** Tensor the error concerns, when there is one. */
  tensor?: string;
  /** File the error concerns when it is not the model itself (an external data file). */
  file?: string;
}

/** A model could not be read; carries a code and, when known, the byte offset or tensor involved. */
export class ModelError extends Error {
  constructor(readonly info: ModelErrorInfo) {
    super(info.message);
    this.name = 'ModelError';
  }
}

/** Turns anything thrown into a ModelErrorInfo. */
export function toModelErrorInfo(error: unknown): ModelErrorInfo {
  if (error instanceof ModelError) {
    return error.info;
  }
  return { code: 'io', message: plainErrorMessage(error) };
}

/**
 * A message for anything thrown while reading, in plain words: engine failures that say nothing to a user
 * (stack overflow, a failed allocation, an invalid typed array length) become a sentence about the model.
 */
export function plainErrorMessage(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  if (/Maximum call stack size exceeded/.test(raw)) {
    return 'The model is nested too deeply to be read (subgraphs or messages within messages).';
  }
  if (
    /Array buffer allocation failed|Invalid typed array length|Invalid array length|Invalid string length/.test(raw)
  ) {
    return 'The model declares more data than can be held in memory; it cannot be read.';
  }
  return raw;
}
