import { ProtoWriter } from './proto.js';

/**
 * Builds ONNX models (the `onnx.proto` messages we need) without a protobuf library.
 * Field numbers are those of onnx/onnx.proto3.
 */

/** ONNX tensor element types used here. */
export const ElemType = { FLOAT: 1, INT64: 7, STRING: 8 } as const;

/** Attribute values: the type is inferred (ints/floats/strings lists, or one of each). */
type AttributeValue =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly string: string }
  | { readonly ints: ArrayLike<number> }
  | { readonly floats: ArrayLike<number> }
  | { readonly strings: readonly string[] };

/** One graph node. */
export interface OnnxNode {
  readonly op: string;
  readonly domain?: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

/** A graph input or output: a tensor with element type and shape (null = symbolic "N"). */
export interface OnnxValue {
  readonly name: string;
  readonly elemType: number;
  readonly shape: readonly (number | null)[];
}

/** A constant tensor stored in the graph. */
export interface OnnxInitializer {
  readonly name: string;
  readonly elemType: typeof ElemType.FLOAT | typeof ElemType.INT64;
  readonly dims: readonly number[];
  readonly values: ArrayLike<number>;
}

/** The whole model. */
export interface OnnxModel {
  readonly graphName: string;
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly OnnxValue[];
  readonly outputs: readonly OnnxValue[];
  readonly initializers?: readonly OnnxInitializer[];
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Opsets we emit: ONNX 13 and ai.onnx.ml 3 (TreeEnsemble*, LabelEncoder v2). */
const OPSET = 13;
const ML_OPSET = 3;
/** IR version 8: read by onnx ≥ 1.10 and every current onnxruntime. */
const IR_VERSION = 8;

/** Serialises a model to the bytes of a `.onnx` file. */
export function encodeModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.varint(1, IR_VERSION);
  w.string(2, 'trestle');
  w.string(3, '0.1.0');
  w.message(7, (g) => encodeGraph(g, model));
  w.message(8, (o) => o.string(1, '').varint(2, OPSET));
  w.message(8, (o) => o.string(1, 'ai.onnx.ml').varint(2, ML_OPSET));
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    w.message(14, (e) => e.string(1, key).string(2, value));
  }
  return w.finish();
}

function encodeGraph(g: ProtoWriter, model: OnnxModel): void {
  model.nodes.forEach((node, i) => g.message(1, (n) => encodeNode(n, node, i)));
  g.string(2, model.graphName);
  for (const init of model.initializers ?? []) g.message(5, (t) => encodeTensor(t, init));
  if (model.docString) g.string(10, model.docString);
  for (const v of model.inputs) g.message(11, (m) => encodeValue(m, v));
  for (const v of model.outputs) g.message(12, (m) => encodeValue(m, v));
}

function encodeNode(n: ProtoWriter, node: OnnxNode, index: number): void {
  for (const input of node.inputs) n.string(1, input);
  for (const output of node.outputs) n.string(2, output);
  n.string(3, node.name ?? `${node.op}_${index}`);
  n.string(4, node.op);
  for (const [name, value] of Object.entries(node.attributes ?? {}))
    n.message(5, (a) => encodeAttribute(a, name, value));
  if (node.domain) n.string(7, node.domain);
}

function encodeAttribute(a: ProtoWriter, name: string, v: AttributeValue): void {
  a.string(1, name);
  if ('float' in v) a.float(2, v.float).varint(20, 1);
  else if ('int' in v) a.varint(3, v.int).varint(20, 2);
  else if ('string' in v) a.string(4, v.string).varint(20, 3);
  else if ('floats' in v) a.packedFloats(7, v.floats).varint(20, 6);
  else if ('ints' in v) a.packedVarints(8, v.ints).varint(20, 7);
  else {
    for (const s of v.strings) a.string(9, s);
    a.varint(20, 8);
  }
}

function encodeValue(m: ProtoWriter, v: OnnxValue): void {
  m.string(1, v.name);
  m.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.varint(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => (d === null ? dim.string(2, 'N') : dim.varint(1, d)));
      });
    }),
  );
}

function encodeTensor(t: ProtoWriter, init: OnnxInitializer): void {
  t.packedVarints(1, init.dims);
  t.varint(2, init.elemType);
  if (init.elemType === ElemType.FLOAT) t.packedFloats(4, init.values);
  else t.packedVarints(7, init.values);
  t.string(8, init.name);
}
