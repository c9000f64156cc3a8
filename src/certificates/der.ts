/**
 * Just enough DER and PEM to read and write X.509 certificates and PKCS#10 requests byte-exactly.
 * Names (issuer, subject) and public keys are copied as raw bytes: re-encoding them could change
 * string types or RDN grouping, and Go (the Kubernetes apiserver) matches an issuer to its CA by
 * comparing the raw name bytes.
 */

/** Any failure to read, check or issue a certificate. Messages never include key material. */
export class CertificateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CertificateError';
  }
}

export const Tag = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One TLV; `der` is the whole encoding, `content` its value (both views of the input). */
export interface DerNode {
  tag: number;
  der: Buffer;
  content: Buffer;
}

function readNode(buf: Buffer, offset: number, what: string): DerNode {
  const malformed = () => new CertificateError(`${what}: malformed DER`);
  if (offset + 2 > buf.length) throw malformed();
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw malformed();
  let length = buf[offset + 1]!;
  let p = offset + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4 || p + n > buf.length) throw malformed();
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[p++]!;
  }
  if (p + length > buf.length) throw malformed();
  return { tag, der: buf.subarray(offset, p + length), content: buf.subarray(p, p + length) };
}

/** Parses a buffer that must hold exactly one TLV. */
export function parseDer(buf: Buffer, what: string): DerNode {
  const node = readNode(buf, 0, what);
  if (node.der.length !== buf.length) throw new CertificateError(`${what}: trailing data after DER`);
  return node;
}

export function childrenOf(node: DerNode, what: string): DerNode[] {
  if ((node.tag & 0x20) === 0) throw new CertificateError(`${what}: malformed DER (expected a constructed value)`);
  const out: DerNode[] = [];
  for (let offset = 0; offset < node.content.length; ) {
    const child = readNode(node.content, offset, what);
    out.push(child);
    offset += child.der.length;
  }
  return out;
}

/** Children of `node`, which must have tag `tag` and at least `min` children. */
export function expectChildren(node: DerNode | undefined, tag: number, min: number, what: string): DerNode[] {
  if (!node || node.tag !== tag) throw new CertificateError(`${what}: unexpected ASN.1 structure`);
  const children = childrenOf(node, what);
  if (children.length < min) throw new CertificateError(`${what}: unexpected ASN.1 structure`);
  return children;
}

export function encode(tag: number, ...parts: Buffer[]): Buffer {
  const content = Buffer.concat(parts);
  const n = content.length;
  let header: Buffer;
  if (n < 0x80) header = Buffer.from([tag, n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, content]);
}

export function encodeOid(oid: string): Buffer {
  const arcs = oid.split('.').map(Number);
  const bytes: number[] = [];
  for (const arc of [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)]) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return encode(Tag.OID, Buffer.from(bytes));
}

export function decodeOid(node: DerNode): string {
  const arcs: number[] = [];
  let value = 0;
  for (const byte of node.content) {
    value = value * 128 + (byte & 0x7f);
    if (byte & 0x80) continue;
    if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
    else arcs.push(value);
    value = 0;
  }
  return arcs.join('.');
}

/** BIT STRING with no unused bits. */
export function encodeBitString(bytes: Buffer): Buffer {
  return encode(Tag.BIT_STRING, Buffer.from([0]), bytes);
}

/** Content of a BIT STRING that has no unused bits (signatures, public keys). */
export function bitStringBytes(node: DerNode | undefined, what: string): Buffer {
  if (!node || node.tag !== Tag.BIT_STRING || node.content[0] !== 0) {
    throw new CertificateError(`${what}: unexpected ASN.1 structure`);
  }
  return node.content.subarray(1);
}

/** UTCTime up to 2049, GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5), whole seconds. */
export function encodeTime(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return encode(Tag.UTC_TIME, Buffer.from(digits.slice(2), 'ascii'));
  return encode(Tag.GENERALIZED_TIME, Buffer.from(digits, 'ascii'));
}

export function decodeTime(node: DerNode | undefined, what: string): Date {
  const text = node?.content.toString('ascii') ?? '';
  const m =
    node?.tag === Tag.UTC_TIME
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : node?.tag === Tag.GENERALIZED_TIME
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
        : null;
  if (!m) throw new CertificateError(`${what}: unreadable validity time`);
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const fullYear = node?.tag === Tag.UTC_TIME ? (year < 50 ? 2000 + year : 1900 + year) : year;
  return new Date(Date.UTC(fullYear, month - 1, day, hour, minute, second));
}

function decodeString(node: DerNode): string {
  switch (node.tag) {
    case Tag.UTF8_STRING:
      return node.content.toString('utf8');
    case Tag.BMP_STRING:
      return Buffer.from(node.content).swap16().toString('utf16le');
    case Tag.UNIVERSAL_STRING: {
      const points: number[] = [];
      for (let i = 0; i + 3 < node.content.length; i += 4) points.push(node.content.readUInt32BE(i));
      return String.fromCodePoint(...points);
    }
    default:
      return node.content.toString('latin1');
  }
}

/** Attributes of a Name (RDNSequence), flattened in order. */
export function nameAttributes(name: DerNode, what: string): { oid: string; value: string }[] {
  const out: { oid: string; value: string }[] = [];
  for (const rdn of expectChildren(name, Tag.SEQUENCE, 0, what)) {
    for (const attribute of expectChildren(rdn, Tag.SET, 1, what)) {
      const [type, value] = expectChildren(attribute, Tag.SEQUENCE, 2, what);
      if (type?.tag !== Tag.OID || !value) throw new CertificateError(`${what}: unexpected ASN.1 structure`);
      out.push({ oid: decodeOid(type), value: decodeString(value) });
    }
  }
  return out;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** DER of every PEM block in `text` whose label is one of `labels`, in order. */
export function pemBlocks(text: string, labels: readonly string[], what: string): Buffer[] {
  if (typeof text !== 'string') throw new CertificateError(`${what}: expected a PEM string`);
  const out: Buffer[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    if (!labels.includes(match[1]!)) continue;
    const body = match[2]!;
    if (body.includes(':')) throw new CertificateError(`${what}: encrypted or annotated PEM is not supported`);
    const base64 = body.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) {
      throw new CertificateError(`${what}: PEM body is not valid base64`);
    }
    out.push(Buffer.from(base64, 'base64'));
  }
  if (out.length === 0) throw new CertificateError(`${what}: no PEM block labelled ${labels.join(' or ')} found`);
  return out;
}

export function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
