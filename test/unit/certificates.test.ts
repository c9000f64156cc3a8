import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import forge from 'node-forge';
import {
  CertificateError,
  certificateMatchesKey,
  createCsr,
  describeCertificate,
  generatePrivateKey,
  signCsrLocally,
  verifyIssuedBy,
} from '../../src/certificates/certificates.js';

interface Ca {
  certPem: string;
  keyPkcs1: string;
  keyPkcs8: string;
}

/** A self-signed RSA CA: key from node:crypto, certificate from node-forge. */
function makeCa(commonName: string): Ca {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01' + randomBytes(8).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86400_000);
  const name = [{ name: 'commonName', value: commonName }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPkcs1), forge.md.sha256.create());
  return {
    certPem: forge.pki.certificateToPem(cert),
    keyPkcs1,
    keyPkcs8: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

let dir: string;
let fileCount = 0;
function file(content: string): string {
  const p = path.join(dir, `f${fileCount++}.pem`);
  fs.writeFileSync(p, content);
  return p;
}
function openssl(args: string[]): { code: number | null; output: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

let ca: Ca;
let otherCa: Ca;
let sameNameCa: Ca;
let key: string;
let csr: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcm-certs-'));
  ca = makeCa('tenant-ca');
  otherCa = makeCa('other-ca');
  sameNameCa = makeCa('tenant-ca');
  key = await generatePrivateKey(2048);
  csr = createCsr({ privateKeyPem: key, commonName: 'alice', organization: 'team-a' });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function sign(overrides: Partial<Parameters<typeof signCsrLocally>[0]> = {}): string {
  return signCsrLocally({
    csrPem: csr,
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPkcs1,
    validitySeconds: 3600,
    usages: 'client',
    ...overrides,
  });
}

describe('generatePrivateKey', () => {
  it('returns a PKCS#1 RSA key of the requested size', async () => {
    expect(key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    const k = createPrivateKey(key);
    expect(k.asymmetricKeyType).toBe('rsa');
    expect(k.asymmetricKeyDetails?.modulusLength).toBe(2048);
    await expect(generatePrivateKey(1024 as 2048)).rejects.toThrow(CertificateError);
  });
});

describe('createCsr', () => {
  it('builds a request openssl verifies, with the subject asked for', () => {
    const r = openssl(['req', '-in', file(csr), '-noout', '-verify', '-subject', '-nameopt', 'RFC2253']);
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/verify OK/);
    expect(r.output).toMatch(/subject=O=team-a,CN=alice/);
  });

  it('accepts a PKCS#8 key, several organizations and non-ASCII names', () => {
    const pkcs8 = createPrivateKey(key).export({ type: 'pkcs8', format: 'pem' }).toString();
    const pem = createCsr({ privateKeyPem: pkcs8, commonName: 'bob@example.com', organization: ['g1', 'Zürich'] });
    expect(openssl(['req', '-in', file(pem), '-noout', '-verify']).output).toMatch(/verify OK/);
    const cert = sign({ csrPem: pem });
    expect(describeCertificate(cert).subject).toEqual({
      commonName: 'bob@example.com',
      organization: ['g1', 'Zürich'],
    });
  });

  it('refuses an empty common name or an unreadable key', () => {
    expect(() => createCsr({ privateKeyPem: key, commonName: ' ' })).toThrow(/common name/);
    expect(() => createCsr({ privateKeyPem: 'nope', commonName: 'a' })).toThrow(CertificateError);
  });
});

describe('signCsrLocally', () => {
  it('issues a client certificate for the request subject, valid for validitySeconds', () => {
    const before = Date.now();
    const pem = sign({ validitySeconds: 600 });
    const d = describeCertificate(pem);
    expect(d.subject).toEqual({ commonName: 'alice', organization: ['team-a'] });
    expect(d.issuerCommonName).toBe('tenant-ca');
    expect(d.serialNumber).toMatch(/^[0-9a-f]{32}$/);
    expect(Math.abs(d.notAfter.getTime() - before - 600_000)).toBeLessThan(2000);
    expect(Math.abs(d.notBefore.getTime() - before + 60_000)).toBeLessThan(2000);

    const x509 = new X509Certificate(pem);
    expect(x509.ca).toBe(false);
    expect(x509.keyUsage).toEqual([CLIENT_AUTH]);
    const text = openssl(['x509', '-in', file(pem), '-noout', '-text']).output;
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(text).toMatch(/Authority Key Identifier/);
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
  });

  it('gives each certificate a different serial', () => {
    expect(describeCertificate(sign()).serialNumber).not.toBe(describeCertificate(sign()).serialNumber);
  });

  it('is verified by openssl against its CA only', () => {
    const cert = file(sign());
    const ok = openssl(['verify', '-CAfile', file(ca.certPem), '-purpose', 'sslclient', cert]);
    expect(ok.output).toMatch(/: OK/);
    expect(ok.code).toBe(0);
    expect(openssl(['verify', '-CAfile', file(otherCa.certPem), cert]).code).not.toBe(0);
    expect(openssl(['verify', '-CAfile', file(sameNameCa.certPem), cert]).code).not.toBe(0);
  });

  it('verifyIssuedBy: true for the CA, false for another CA even with the same name', () => {
    const pem = sign();
    expect(verifyIssuedBy(pem, ca.certPem)).toBe(true);
    expect(verifyIssuedBy(pem, otherCa.certPem)).toBe(false);
    expect(verifyIssuedBy(pem, sameNameCa.certPem)).toBe(false);
    expect(verifyIssuedBy(pem, otherCa.certPem + ca.certPem)).toBe(true); // bundle
  });

  it('certificateMatchesKey: true for its key only', async () => {
    const pem = sign();
    expect(certificateMatchesKey(pem, key)).toBe(true);
    expect(certificateMatchesKey(pem, await generatePrivateKey())).toBe(false);
    expect(certificateMatchesKey(ca.certPem, ca.keyPkcs8)).toBe(true);
  });

  it('accepts the CA key as PKCS#8 and picks the CA matching the key from a bundle', () => {
    const pem = sign({ caKeyPem: ca.keyPkcs8, caCertPem: otherCa.certPem + ca.certPem });
    expect(verifyIssuedBy(pem, ca.certPem)).toBe(true);
    expect(() => sign({ caKeyPem: otherCa.keyPkcs1 })).toThrow('CA private key does not match the CA certificate');
  });

  it('rejects a tampered request', () => {
    const der = Buffer.from(csr.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, ''), 'base64');
    const at = der.indexOf(Buffer.from('alice'));
    expect(at).toBeGreaterThan(0);
    der.write('mallo', at, 'ascii');
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    // OpenSSL 3.0 exits 0 even when the self-signature fails, so read what it says.
    expect(openssl(['req', '-in', file(tampered), '-noout', '-verify']).output).not.toMatch(/verify OK/);
    expect(() => sign({ csrPem: tampered })).toThrow(/CSR: signature does not verify/);
  });

  it('copies the CA subject byte for byte into the issuer (multi-valued RDN, UTF-8) and signs with an EC CA', () => {
    const caKey = file(
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
    );
    const caCert = path.join(dir, 'ec-ca.pem');
    const made = openssl([
      'req',
      '-x509',
      '-new',
      '-utf8',
      '-key',
      caKey,
      '-subj',
      '/O=Zürich Cloud+OU=ops/CN=ec-ca',
      '-days',
      '1',
      '-out',
      caCert,
    ]);
    expect(made.code).toBe(0);
    const caPem = fs.readFileSync(caCert, 'utf8');
    const pem = sign({ caCertPem: caPem, caKeyPem: fs.readFileSync(caKey, 'utf8') });

    const fields = (p: string) => forge.asn1.fromDer(forge.pem.decode(p)[0]!.body).value[0] as forge.asn1.Asn1;
    const tbsValues = (p: string) => (fields(p).value as forge.asn1.Asn1[]).map((n) => forge.asn1.toDer(n).toHex());
    expect(tbsValues(pem)[3]).toBe(tbsValues(caPem)[5]); // issuer of the leaf === subject of the CA
    expect(describeCertificate(pem).issuerCommonName).toBe('ec-ca');
    expect(verifyIssuedBy(pem, caPem)).toBe(true);
    expect(openssl(['verify', '-CAfile', caCert, '-purpose', 'sslclient', file(pem)]).code).toBe(0);
    expect(openssl(['x509', '-in', file(pem), '-noout', '-text']).output).toMatch(/ecdsa-with-SHA256/);
  });

  it('refuses bad input with CertificateError, never echoing key material', () => {
    expect(() => sign({ validitySeconds: 0 })).toThrow(/validitySeconds/);
    expect(() => sign({ usages: 'server' as 'client' })).toThrow(/usages/);
    expect(() => sign({ csrPem: 'not a pem' })).toThrow(/CSR: no PEM block labelled CERTIFICATE REQUEST/);
    expect(() =>
      sign({ csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n' }),
    ).toThrow(/CSR: malformed DER/);
    expect(() => sign({ caCertPem: ca.keyPkcs1 })).toThrow(/CA certificate: no PEM block/);
    const brokenKey = ca.keyPkcs1.replace(/\n[A-Za-z0-9+/]{64}\n/, '\n' + 'A'.repeat(64) + '\n');
    let error: unknown;
    try {
      sign({ caKeyPem: brokenKey });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CertificateError);
    const message = (error as Error).message;
    expect(message).toMatch(/^CA private key: /);
    for (const line of ca.keyPkcs1.split('\n').filter((l) => l.length > 20))
      expect(message).not.toContain(line.slice(0, 20));
  });
});

describe('describeCertificate', () => {
  it('reads a CA certificate and rejects what is not one', () => {
    const d = describeCertificate(ca.certPem);
    expect(d.subject).toEqual({ commonName: 'tenant-ca' });
    expect(d.issuerCommonName).toBe('tenant-ca');
    expect(d.notAfter.getTime()).toBeGreaterThan(d.notBefore.getTime());
    expect(() => describeCertificate('garbage')).toThrow(CertificateError);
    expect(() => describeCertificate('-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n')).toThrow(
      /not valid base64/,
    );
  });
});
