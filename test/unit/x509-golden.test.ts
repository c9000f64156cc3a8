/**
 * The certificate code after @peculiar/asn1-x509 against what the hand-written DER code made for
 * the same inputs (test/fixtures/x509-golden, written by make-golden.ts at 4e8e63e), judged by
 * openssl: `x509 -text` and `asn1parse` (subjects, issuer name bytes, extensions, their
 * criticality and bytes, serial length) with what is random or time-based left out, validity
 * lengths, `verify` and `req -verify`. And what was issued before still verifies and is reused.
 */
import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  intermediateStillGood,
  issueIntermediateCa,
} from '../../src/certificates/certificate-authority/intermediate-ca.js';
import { createRootCa, loadCaSigner, type CaSigner } from '../../src/certificates/certificate-authority/root-ca.js';
import {
  certificateMatchesKey,
  createCsr,
  describeCertificate,
  signCsrLocally,
  verifyIssuedBy,
} from '../../src/certificates/certificates.js';
import { certificateProblem } from '../../src/controllers/user.controller.js';
import { renewalTime } from '../../src/domain/tenant-credentials.js';
import { hasNameConstraints } from '../../src/features/certificate-authority/mesh-ca.js';
import { GOLDEN } from '../fixtures/x509-golden/inputs.js';
import { OpensslWorkspace } from '../support/openssl.js';

const GOLDEN_DIR = path.join(path.dirname(new URL(import.meta.url).pathname), '../fixtures/x509-golden');
const golden = (name: string) => fs.readFileSync(path.join(GOLDEN_DIR, name), 'utf8');

let openssl: OpensslWorkspace;
beforeAll(() => {
  openssl = new OpensslWorkspace('dcm-x509-golden-');
});
afterAll(() => openssl.remove());

function run(args: string[]): string {
  const r = openssl.run(args);
  expect(r.code).toBe(0);
  return r.output;
}

const HEX_LINE = /^\s+([0-9A-Fa-f]{2}:)+[0-9A-Fa-f]{0,2}$/;

/** `openssl x509 -text`, without what is random or time-based: serial value (its length kept), dates, key and signature bytes. */
function textOf(pem: string): string {
  const lines = run(['x509', '-in', openssl.file(pem), '-noout', '-text']).split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/Serial Number:\s*$/.test(line)) out.push(`Serial Number: ${lines[++i]!.trim().split(':').length} bytes`);
    else if (/Not (Before|After)/.test(line)) out.push(line.replace(/:.*$/, ': <date>'));
    else if (!HEX_LINE.test(line)) out.push(line);
  }
  return out.join('\n');
}

/**
 * `openssl asn1parse` of the whole certificate: every TLV with its offset, depth and length, the
 * string types and values of names and the bytes of every extension value. Left out: the serial
 * value, the times, key identifiers when the keys differ, and the signature (an ECDSA signature's
 * length varies, and the outer length with it).
 */
function structureOf(pem: string, keysDiffer: boolean): string[] {
  const lines = run(['asn1parse', '-in', openssl.file(pem)])
    .trim()
    .split('\n');
  return lines.slice(1, -1).map((line, i) => {
    let l = line.replace(/(UTCTIME|GENERALIZEDTIME)\s*:\d+Z/, '$1 :<time>');
    if (i === 3) l = l.replace(/:[0-9A-F]+$/, ':<serial>');
    if (keysDiffer) l = l.replace(/\[HEX DUMP\]:(0414|30168014)[0-9A-F]{40}$/, '[HEX DUMP]:$1<key id>');
    return l;
  });
}

/** Issuer and subject with the DER of each attribute value (tag, length, bytes). */
const namesOf = (pem: string) =>
  run(['x509', '-in', openssl.file(pem), '-noout', '-issuer', '-subject', '-nameopt', 'RFC2253,dump_all,dump_der']);
const subjectBytesOf = (pem: string) =>
  run(['x509', '-in', openssl.file(pem), '-noout', '-subject', '-nameopt', 'RFC2253,dump_all,dump_der']).replace(
    /^subject=/,
    '',
  );

/** notAfter − notBefore in seconds, as openssl reads them. */
function lifetimeOf(pem: string): number {
  const dates = run(['x509', '-in', openssl.file(pem), '-noout', '-startdate', '-enddate']);
  const [start, end] = [/notBefore=(.*)/, /notAfter=(.*)/].map((re) => Date.parse(re.exec(dates)![1]!));
  return (end! - start!) / 1000;
}

function expectSameAsGolden(made: string, goldenPem: string, keysDiffer: boolean): void {
  expect(textOf(made)).toBe(textOf(goldenPem));
  expect(structureOf(made, keysDiffer)).toEqual(structureOf(goldenPem, keysDiffer));
  expect(namesOf(made)).toBe(namesOf(goldenPem));
  expect(lifetimeOf(made)).toBe(lifetimeOf(goldenPem));
  expect(textOf(made)).toMatch(/Serial Number: 16 bytes/);
}

const csrKey = (format: 'pkcs1' | 'pkcs8') =>
  format === 'pkcs8'
    ? createPrivateKey(golden('tenant-key.pem')).export({ type: 'pkcs8', format: 'pem' }).toString()
    : golden('tenant-key.pem');

describe('CSRs: the same bytes as before', () => {
  it.each(GOLDEN.csrs.map((c) => [c.file, c] as const))('%s', (_file, csr) => {
    const made = createCsr({
      privateKeyPem: csrKey(csr.keyFormat),
      commonName: csr.commonName,
      ...(csr.organization !== undefined && { organization: csr.organization }),
    });
    expect(made).toBe(golden(csr.file));
    expect(run(['req', '-in', openssl.file(made), '-noout', '-verify'])).toMatch(/verify OK/);
  });
});

describe('tenant certificates signed locally: what they were, field by field', () => {
  it.each(GOLDEN.tenantCertificates.map((c) => [c.file, c] as const))('%s', (file, cert) => {
    const caPem = golden(`${cert.ca}.pem`);
    const made = signCsrLocally({
      csrPem: golden(cert.csr),
      caCertPem: caPem,
      caKeyPem: golden(`${cert.ca}-key.pem`),
      validitySeconds: cert.validitySeconds,
      usages: 'client',
    });
    expectSameAsGolden(made, golden(file), false);
    // The issuer is the CA's subject, byte for byte.
    expect(namesOf(made)).toContain(`issuer=${subjectBytesOf(caPem)}`);
    const caFile = openssl.file(caPem);
    expect(openssl.run(['verify', '-CAfile', caFile, '-purpose', 'sslclient', openssl.file(made)]).code).toBe(0);
  });
});

describe('the DCM root and intermediates: what they were, field by field', () => {
  let goldenRoot: CaSigner;
  beforeAll(() => {
    goldenRoot = loadCaSigner({ certificatePem: golden('root.pem'), keyPem: golden('root-key.pem') });
  });

  it('a root with the same subject and validity', async () => {
    const root = await createRootCa({
      subject: GOLDEN.root.subject,
      validitySeconds: GOLDEN.root.validitySeconds,
      keyBits: 2048,
    });
    expectSameAsGolden(root.certificatePem, golden('root.pem'), true);
    expect(openssl.verify(root.certificatePem, root.certificatePem).code).toBe(0);
  });

  it.each(GOLDEN.intermediates.map((i) => [i.file, i] as const))('%s', async (file, intermediate) => {
    const signer =
      intermediate.signer === 'root'
        ? goldenRoot
        : loadCaSigner({
            certificatePem: golden(`${intermediate.signer}.pem`),
            keyPem: golden(`${intermediate.signer}-key.pem`),
          });
    const made = await issueIntermediateCa(signer, { ...intermediate.options, keyBits: 2048 });
    // Under the golden root the authority key id is the same; under another CA too (its subject key id).
    expectSameAsGolden(made.certificatePem, golden(file), true);
    expect(namesOf(made.certificatePem)).toContain(`issuer=${subjectBytesOf(signer.certificatePem)}`);
    expect(openssl.verify(signer.rootPem, made.certificatePem).code).toBe(0);
    expect(run(['x509', '-in', openssl.file(made.certificatePem), '-noout', '-ext', 'authorityKeyIdentifier'])).toBe(
      run(['x509', '-in', openssl.file(golden(file)), '-noout', '-ext', 'authorityKeyIdentifier']),
    );
  });
});

describe('what was issued before the change', () => {
  it('intermediates still verify against their CA and are still delivered again', () => {
    const root = loadCaSigner({ certificatePem: golden('root.pem'), keyPem: golden('root-key.pem') });
    for (const intermediate of GOLDEN.intermediates) {
      const signer =
        intermediate.signer === 'root'
          ? root
          : loadCaSigner({
              certificatePem: golden(`${intermediate.signer}.pem`),
              keyPem: golden(`${intermediate.signer}-key.pem`),
            });
      const stored = {
        certificatePem: golden(intermediate.file),
        keyPem: golden(intermediate.file.replace('.pem', '-key.pem')),
      };
      expect(openssl.verify(signer.rootPem, stored.certificatePem).code).toBe(0);
      expect(intermediateStillGood(stored, signer)).toBe(true);
      expect(hasNameConstraints(stored.certificatePem)).toBe('trustDomain' in intermediate.options);
    }
    // …and not by another root.
    const stored = { certificatePem: golden('intermediate.pem'), keyPem: golden('intermediate-key.pem') };
    expect(
      intermediateStillGood(
        stored,
        loadCaSigner({ certificatePem: golden('ca-ec.pem'), keyPem: golden('ca-ec-key.pem') }),
      ),
    ).toBe(false);
  });

  it('tenant certificates still verify against their cluster CA and pass the user controller reuse check', () => {
    for (const cert of GOLDEN.tenantCertificates) {
      const pem = golden(cert.file);
      const caPem = golden(`${cert.ca}.pem`);
      expect(
        openssl.run(['verify', '-CAfile', openssl.file(caPem), '-purpose', 'sslclient', openssl.file(pem)]).code,
      ).toBe(0);
      expect(verifyIssuedBy(pem, caPem)).toBe(true);
      expect(verifyIssuedBy(pem, golden(cert.ca === 'ca-rsa' ? 'ca-ec.pem' : 'ca-rsa.pem'))).toBe(false);
      expect(Date.now()).toBeLessThan(renewalTime(describeCertificate(pem)).getTime());
    }
    const tenant = { userName: 'dcm:project-1:lc-1:alice', group: 'dcm:lc:0f0e0d0c-0b0a-4908-8706-050403020100:g1' };
    for (const file of ['tenant-by-rsa-ca.pem', 'tenant-by-ed25519-ca.pem']) {
      expect(certificateProblem(golden(file), golden('tenant-key.pem'), tenant)).toBeUndefined();
    }
    expect(certificateMatchesKey(golden('tenant-ec-key.crt.pem'), golden('tenant-ec-key.pem'))).toBe(true);
    expect(certificateMatchesKey(golden('tenant-ec-key.crt.pem'), golden('tenant-key.pem'))).toBe(false);
    expect(describeCertificate(golden('tenant-by-ec-ca.pem'))).toMatchObject({
      subject: { commonName: 'bob@example.com', organization: ['g1', 'Zürich'] },
      issuerCommonName: 'ec-ca',
    });
  });
});
