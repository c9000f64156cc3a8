/**
 * google.protobuf.Struct <-> plain JSON, as @grpc/proto-loader presents them with
 * `oneofs: true` (each Value names its member in `kind`). A value goes through JSON first,
 * so that it is exactly what the REST API would send (dates as ISO text, undefined left out).
 */
export interface ProtoValue {
  kind?: string;
  nullValue?: unknown;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: ProtoStruct;
  listValue?: { values?: ProtoValue[] };
}

export interface ProtoStruct {
  fields?: Record<string, ProtoValue>;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function jsonToValue(value: Json): ProtoValue {
  if (value === null) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(jsonToValue) } };
  return { structValue: jsonToStruct(value) };
}

function jsonToStruct(object: { [key: string]: Json }): ProtoStruct {
  return { fields: Object.fromEntries(Object.entries(object).map(([k, v]) => [k, jsonToValue(v)])) };
}

/** A JSON object (anything JSON.stringify makes an object of) as a Struct. */
export function toStruct(value: unknown): ProtoStruct {
  const json = JSON.parse(JSON.stringify(value ?? {})) as Json;
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new TypeError('a Struct holds an object');
  return jsonToStruct(json);
}

const MEMBERS = ['structValue', 'listValue', 'stringValue', 'numberValue', 'boolValue', 'nullValue'] as const;

function valueToJson(value: ProtoValue): Json {
  // Decoded messages name their member in `kind`; a Value built by hand has only the member.
  const kind = value.kind ?? MEMBERS.find((m) => value[m] !== undefined && value[m] !== null);
  switch (kind) {
    case 'numberValue':
      return value.numberValue ?? 0;
    case 'stringValue':
      return value.stringValue ?? '';
    case 'boolValue':
      return value.boolValue ?? false;
    case 'structValue':
      return structToJson(value.structValue ?? {});
    case 'listValue':
      return (value.listValue?.values ?? []).map(valueToJson);
    default:
      return null;
  }
}

function structToJson(struct: ProtoStruct): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  // defineProperty: a key such as __proto__ is data, not the prototype.
  for (const [k, v] of Object.entries(struct.fields ?? {}))
    Object.defineProperty(out, k, { value: valueToJson(v), enumerable: true, writable: true, configurable: true });
  return out;
}

/** A Struct as the JSON object it holds; an absent Struct is undefined (like an absent body). */
export function fromStruct(struct: ProtoStruct | null | undefined): Record<string, unknown> | undefined {
  return struct ? structToJson(struct) : undefined;
}
