/**
 * The error every certificate function throws, and PEM armour: the DER bytes of PEM blocks and
 * back. What is inside the DER is read and written by @peculiar/asn1-x509 (see x509.ts).
 */

/** Any failure to read, check or issue a certificate. Messages never include key material. */
export class CertificateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CertificateError';
  }
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
