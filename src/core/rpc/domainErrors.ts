/** The project's own errors (ModelError, SpecError) in the one error shape, and back, for every boundary. */
import type { JsonProblem } from '../eval/jsonLocation';
import { SpecError } from '../eval/spec';
import { ModelError, type ModelErrorCode } from '../onnx/errors';
import { RpcError, toRpcErrorInfo, type RpcErrorInfo } from './errors';

const MODEL_CODES: readonly ModelErrorCode[] = [
  'empty-file',
  'other-format',
  'decode-failed',
  'not-onnx',
  'too-large',
  'external-data',
  'io',
];

/** A thrown error in plain form: a ModelError keeps its code and where (file, offset, tensor); a SpecError its problems. */
export function errorToInfo(error: unknown): RpcErrorInfo {
  if (error instanceof ModelError) {
    const { code, message, offset, tensor, file } = error.info;
    const location = { offset, tensor, file };
    for (const key of Object.keys(location) as (keyof typeof location)[])
      if (location[key] === undefined) delete location[key];
    return { code, message, name: 'ModelError', ...(Object.keys(location).length > 0 ? { location } : {}) };
  }
  if (error instanceof SpecError)
    return {
      code: 'spec',
      name: 'SpecError',
      message: error.message,
      location: { file: error.file },
      data: error.problems,
    };
  return toRpcErrorInfo(error);
}

/** Rebuilds the error errorToInfo() described (an RpcError, or a plain Error of the same name, for others). */
export function errorFromInfo(info: RpcErrorInfo): Error {
  if (info.name === 'ModelError' && (MODEL_CODES as string[]).includes(info.code)) {
    const { offset, tensor, file } = info.location ?? {};
    return new ModelError({
      code: info.code as ModelErrorCode,
      message: info.message,
      ...(offset !== undefined ? { offset } : {}),
      ...(tensor !== undefined ? { tensor } : {}),
      ...(file !== undefined ? { file } : {}),
    });
  }
  if (info.name === 'SpecError' && info.location?.file && Array.isArray(info.data))
    return new SpecError(info.location.file, info.data as JsonProblem[]);
  return new RpcError(info);
}
