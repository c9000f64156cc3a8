/**
 * X.509 certificates (RFC 5280) and PKCS#10 requests (RFC 2986), read and written by
 * @peculiar/asn1-x509 and @peculiar/asn1-csr: the ASN.1 schemas @peculiar/x509 is built on,
 * used directly because the DCM issues synchronously (@peculiar/x509's generators sign through
 * WebCrypto, asynchronously). Keys, digests and signatures are node:crypto's, so a CA key may be
 * RSA, EC or Ed25519. Names and public keys read from a certificate or request are written back
 * as read: Go (the Kubernetes apiserver) matches an issuer to its CA by the raw name bytes.
 *
 * This module holds what every part shares (DER, names); certificates are read and checked in
 * x509-certificate-reader.ts, written in x509-certificate-builder.ts, requests read in
 * x509-csr.ts, and signature algorithms chosen and checked in x509-signatures.ts.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';

export const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
} as const;

/** DER of any ASN.1 value of the schemas. */
export const derOf = (value: object): Buffer => Buffer.from(AsnConvert.serialize(value));

// ---- names -------------------------------------------------------------------------------------

/** A Name of one attribute per RDN, in order; PrintableString where the value allows it (as Go writes names), else UTF8String. */
export function nameOf(attributes: readonly { oid: string; value: string }[]): Name {
  return new Name(
    attributes.map(({ oid, value }) => {
      const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value);
      const text = new AttributeValue(printable ? { printableString: value } : { utf8String: value });
      return new RelativeDistinguishedName([new AttributeTypeAndValue({ type: oid, value: text })]);
    }),
  );
}

/** Attributes of a Name, flattened in order. */
export function nameAttributes(name: Name): { oid: string; value: string }[] {
  return name.flatMap((rdn) => rdn.map((attribute) => ({ oid: attribute.type, value: attribute.value.toString() })));
}
