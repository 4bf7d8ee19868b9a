/** Seeded mutants of ONNX models: byte-level (truncation, bit flips) and protobuf-aware (dims, dtypes, lengths, attributes, nesting, external data). */
import { onnx } from 'onnx-proto';
import { mulberry32 } from '../../src/core/random';

/** A mutant model and what was done to it. */
export interface Mutant {
  bytes: Uint8Array;
  how: string;
}

const INTERESTING = [0, 1, -1, -4, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53, -(2 ** 31), 65536, 3, 7];
const LOCATIONS = ['../outside.bin', '/etc/passwd', '/dev/zero', 'sub/../../x.bin', 'missing.bin', '', 'data.bin'];
const OFFSETS = ['-1', 'abc', '1.5', '99999999999', '', '0'];

/** One seeded mutation of `source`. */
export function mutate(source: Uint8Array, seed: number): Mutant {
  const random = mulberry32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const kind = Math.floor(random() * 10);
  if (kind <= 1) {
    const at = Math.floor(random() * source.length);
    return { bytes: source.slice(0, at), how: `truncated at ${at}` };
  }
  if (kind <= 3) {
    const bytes = source.slice();
    const flips = 1 + Math.floor(random() * 8);
    for (let i = 0; i < flips; i++) bytes[Math.floor(random() * bytes.length)] ^= 1 << Math.floor(random() * 8);
    return { bytes, how: `${flips} bit flips` };
  }
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(source);
  } catch {
    return { bytes: source, how: 'unchanged (not decodable)' };
  }
  const graph: onnx.IGraphProto = model.graph ?? {};
  graph.initializer ??= [];
  graph.node ??= [];
  const initializers = graph.initializer;
  const nodes = graph.node;
  const attrs = nodes.flatMap((n) => n.attribute ?? []);
  const tensors = [...initializers, ...attrs.flatMap((a) => (a.t ? [a.t] : []))];
  let how: string;
  switch (kind) {
    case 4: {
      const t = tensors.length ? pick(tensors) : undefined;
      if (t?.dims?.length) {
        const i = Math.floor(random() * t.dims.length);
        t.dims[i] = pick(INTERESTING);
        how = `dim ${i} of ${t.name} = ${String(t.dims[i])}`;
      } else how = 'no dims';
      break;
    }
    case 5: {
      const t = tensors.length ? pick(tensors) : undefined;
      if (t) t.dataType = Math.floor(random() * 26);
      how = `dtype of ${t?.name} = ${t?.dataType}`;
      break;
    }
    case 6: {
      const a = attrs.length ? pick(attrs) : undefined;
      if (a) {
        a.i = pick(INTERESTING);
        a.ints = (a.ints ?? []).map(() => pick(INTERESTING));
      }
      how = `attribute ${a?.name} = ${String(a?.i)}`;
      break;
    }
    case 7: {
      const t = tensors.length ? pick(tensors) : undefined;
      if (t) {
        t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
        t.externalData = [
          { key: 'location', value: pick(LOCATIONS) },
          { key: 'offset', value: pick(OFFSETS) },
          { key: 'length', value: pick([...OFFSETS, '16', '1000000000000']) },
        ];
      }
      how = `external data of ${t?.name}: ${JSON.stringify((t?.externalData ?? []).map((e) => e.value))}`;
      break;
    }
    case 8: {
      // Nesting: the graph inside an If node inside itself, a few levels deep.
      let g: onnx.IGraphProto = graph;
      const depth = 1 + Math.floor(random() * 50);
      for (let i = 0; i < depth; i++)
        g = {
          node: [{ opType: 'If', name: `if${i}`, attribute: [{ name: 'then_branch', type: 5, g }] }],
          initializer: graph.initializer,
        };
      model.graph = g as onnx.GraphProto;
      how = `nested ${depth} deep`;
      break;
    }
    default: {
      // Copies of initializers (duplicate names) and repeated nodes.
      const copies = 1 + Math.floor(random() * 200);
      for (let i = 0; i < copies && initializers.length; i++) initializers.push(pick(initializers));
      how = `${copies} duplicate initializers`;
    }
  }
  try {
    return { bytes: onnx.ModelProto.encode(model).finish(), how };
  } catch {
    return { bytes: source, how: `${how} (not encodable, unchanged)` };
  }
}
