/** Errors raised while reading a model: each says what is wrong and, when known, where. */

/** Why a model could not be read. */
export type ModelErrorCode =
  'empty-file' | 'other-format' | 'decode-failed' | 'not-onnx' | 'too-large' | 'external-data' | 'io';

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
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'io', message };
}
