/**
 * The service-mesh CA's certificates, checked by OpenSSL (the `openssl` binary) and node:crypto:
 * the generated root, per-cluster intermediates (CA:TRUE pathlen 0, key usage, URI SAN, name
 * constraint, validity capped by the signer), operator-supplied CAs with their chains, the
 * `cacerts` files, and the rules for reusing a stored intermediate.
 */
import { X509Certificate, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import forge from 'node-forge';
import { fitName, type CaKeyPair } from '../../src/certificates/certificate-authority/ca-certificate-builder.js';
import { describeCaCertificate } from '../../src/certificates/certificate-authority/ca-certificate-reader.js';
import {
  cacertsFiles,
  intermediateStillGood,
  issueIntermediateCa,
} from '../../src/certificates/certificate-authority/intermediate-ca.js';
import { createRootCa, loadCaSigner, type CaSigner } from '../../src/certificates/certificate-authority/root-ca.js';
import { CertificateError } from '../../src/certificates/pem.js';
import { OpensslWorkspace, pemsOf } from '../support/openssl.js';

let openssl: OpensslWorkspace;
const file = (content: string): string => openssl.file(content);
const text = (pem: string) => openssl.run(['x509', '-noout', '-text', '-in', file(pem)]).output;
const verify = (rootPem: string, pem: string, untrusted: string[] = []) => openssl.verify(rootPem, pem, untrusted);

const TRUST_DOMAIN = 'dcm-0123456789abcdef.dcm.local';
const URI = `spiffe://${TRUST_DOMAIN}/ns/tenant-ns/cluster/cluster-1`;
const intermediateOptions = (overrides: Partial<Parameters<typeof issueIntermediateCa>[1]> = {}) => ({
  subject: { organization: 'DCM', organizationalUnit: 'project-1/lc-1', commonName: 'lc-1 CA for cluster-1' },
  uri: URI,
  trustDomain: TRUST_DOMAIN,
  validitySeconds: 365 * 24 * 3600,
  ...overrides,
});

let root: CaKeyPair;
let signer: CaSigner;

beforeAll(async () => {
  openssl = new OpensslWorkspace('dcm-ca-');
  root = await createRootCa({
    subject: { organization: 'DCM', commonName: 'DCM service mesh root CA' },
    validitySeconds: 10 * 365 * 24 * 3600,
    keyBits: 2048,
  });
  signer = loadCaSigner(root);
});
afterAll(() => openssl.remove());

describe('the generated root', () => {
  it('is a self-signed CA for one level of intermediates, signing certificates and CRLs only', () => {
    const x509 = new X509Certificate(root.certificatePem);
    expect(x509.ca).toBe(true);
    expect(x509.checkIssued(x509)).toBe(true);
    expect(x509.checkPrivateKey(createPrivateKey(root.keyPem))).toBe(true);
    const t = text(root.certificatePem);
    expect(t).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:1/);
    expect(t).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    expect(t).toMatch(/Subject: O ?= ?DCM, CN ?= ?DCM service mesh root CA/);
    expect(verify(root.certificatePem, root.certificatePem).output).toMatch(/: OK/);
    expect(signer).toMatchObject({ certificatePem: root.certificatePem, chainPem: [], rootPem: root.certificatePem });
  });
});

describe('per-cluster intermediates', () => {
  let issued: Awaited<ReturnType<typeof issueIntermediateCa>>;
  beforeAll(async () => {
    issued = await issueIntermediateCa(signer, intermediateOptions());
  });

  it('chain to the root (openssl verify) and carry their own key', () => {
    expect(verify(root.certificatePem, issued.certificatePem)).toMatchObject({
      code: 0,
      output: expect.stringMatching(/: OK/),
    });
    expect(new X509Certificate(issued.certificatePem).checkPrivateKey(createPrivateKey(issued.keyPem))).toBe(true);
    expect(new X509Certificate(issued.certificatePem).checkPrivateKey(createPrivateKey(root.keyPem))).toBe(false);
  });

  it('are CAs with pathlen 0, keyCertSign + cRLSign (both critical), the URI SAN and a critical name constraint', () => {
    const t = text(issued.certificatePem);
    expect(new X509Certificate(issued.certificatePem).ca).toBe(true);
    expect(t).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(t).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    expect(t).toMatch(new RegExp(`X509v3 Subject Alternative Name: \\s+URI:${URI.replace(/[.]/g, '\\.')}`));
    expect(t).toMatch(
      new RegExp(`X509v3 Name Constraints: critical\\s+Permitted:\\s+URI:${TRUST_DOMAIN.replace(/[.]/g, '\\.')}`),
    );
    expect(t).toMatch(/Subject: O ?= ?DCM, OU ?= ?project-1\/lc-1, CN ?= ?lc-1 CA for cluster-1/);
    // The authority key id is the root's subject key id.
    const rootKeyId = /Subject Key Identifier: \s+([0-9A-F:]+)/.exec(text(root.certificatePem))![1];
    expect(t).toMatch(new RegExp(`Authority Key Identifier: \\s+(keyid:)?${rootKeyId}`));
    expect(describeCaCertificate(issued.certificatePem)).toMatchObject({
      serialNumber: issued.serialNumber,
      uris: [URI],
    });
  });

  it('do not verify against another root', async () => {
    const other = await createRootCa({
      subject: { organization: 'DCM', commonName: 'DCM service mesh root CA' },
      validitySeconds: 86400,
      keyBits: 2048,
    });
    const result = verify(other.certificatePem, issued.certificatePem);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/signature failure|unable to get local issuer|certificate signature/i);
  });

  it('two intermediates have their own keys and serials', async () => {
    const second = await issueIntermediateCa(
      signer,
      intermediateOptions({ uri: `spiffe://${TRUST_DOMAIN}/ns/tenant-ns/cluster/cluster-2` }),
    );
    expect(second.serialNumber).not.toBe(issued.serialNumber);
    expect(createPublicKey(second.keyPem).export({ format: 'pem', type: 'spki' })).not.toEqual(
      createPublicKey(issued.keyPem).export({ format: 'pem', type: 'spki' }),
    );
  });

  it('never outlive their signer', async () => {
    const shortRoot = await createRootCa({
      subject: { commonName: 'short root' },
      validitySeconds: 2 * 86400,
      keyBits: 2048,
    });
    const capped = await issueIntermediateCa(loadCaSigner(shortRoot), intermediateOptions());
    expect(capped.notAfter.getTime()).toBe(new Date(new X509Certificate(shortRoot.certificatePem).validTo).getTime());
    const full = issued.notAfter.getTime() - issued.notBefore.getTime();
    expect(full).toBe(365 * 24 * 3600 * 1000 + 60_000);
  });

  it('name constraints: a workload identity in the trust domain verifies, one of another trust domain does not', () => {
    const leaf = (uri: string) => {
      const keys = forge.pki.rsa.generateKeyPair(1024);
      const cert = forge.pki.createCertificate();
      cert.publicKey = keys.publicKey;
      cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
      cert.validity.notBefore = new Date(Date.now() - 60_000);
      cert.validity.notAfter = new Date(Date.now() + 3600_000);
      cert.setIssuer(forge.pki.certificateFromPem(issued.certificatePem).subject.attributes);
      cert.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 6, value: uri }] }]);
      cert.sign(
        forge.pki.privateKeyFromPem(
          createPrivateKey(issued.keyPem).export({ type: 'pkcs1', format: 'pem' }).toString(),
        ),
        forge.md.sha256.create(),
      );
      return forge.pki.certificateToPem(cert);
    };
    const inside = verify(root.certificatePem, leaf(`spiffe://${TRUST_DOMAIN}/ns/tenant-ns/sa/default`), [
      issued.certificatePem,
    ]);
    expect(inside).toMatchObject({ code: 0 });
    const outside = verify(root.certificatePem, leaf('spiffe://other.dcm.local/ns/tenant-ns/sa/default'), [
      issued.certificatePem,
    ]);
    expect(outside.code).not.toBe(0);
    expect(outside.output).toMatch(/permitted subtree violation/);
  });

  it('write non-ASCII subject names as UTF8String and keep long names apart within 64 characters', async () => {
    const named = await issueIntermediateCa(
      signer,
      intermediateOptions({ subject: { organization: 'DCM', commonName: 'Ünïcode CA' } }),
    );
    expect(describeCaCertificate(named.certificatePem).subject).toMatch(/CN=Ünïcode CA/);
    const a = fitName(`${'x'.repeat(80)}-a`);
    const b = fitName(`${'x'.repeat(80)}-b`);
    expect([...a]).toHaveLength(64);
    expect(a).not.toBe(b);
    expect(fitName('short')).toBe('short');
  });

  it('refuse a URI that is not ASCII, or a trust domain that is not a DNS-like name', async () => {
    await expect(issueIntermediateCa(signer, intermediateOptions({ uri: 'spiffe://td/ns/ü' }))).rejects.toThrow(
      CertificateError,
    );
    await expect(issueIntermediateCa(signer, intermediateOptions({ trustDomain: 'Bad Domain' }))).rejects.toThrow(
      /trust domain/,
    );
  });
});

describe('the cacerts files', () => {
  it('hold the intermediate and its key, the root, and the chain from the intermediate up to the root', async () => {
    const issued = await issueIntermediateCa(signer, intermediateOptions());
    const files = cacertsFiles(issued, signer);
    expect(files['ca-cert.pem']).toBe(issued.certificatePem);
    expect(files['ca-key.pem']).toBe(issued.keyPem);
    expect(files['root-cert.pem']).toBe(root.certificatePem);
    expect(pemsOf(files['cert-chain.pem'])).toEqual([issued.certificatePem, root.certificatePem]);
  });
});

describe('reusing a stored intermediate', () => {
  it('only while its key matches, its signer signs now, and it is not in the last fifth of its life', async () => {
    const issued = await issueIntermediateCa(signer, intermediateOptions());
    expect(intermediateStillGood(issued, signer)).toBe(true);
    const other = await issueIntermediateCa(signer, intermediateOptions());
    expect(intermediateStillGood({ certificatePem: issued.certificatePem, keyPem: other.keyPem }, signer)).toBe(false);
    const otherRoot = loadCaSigner(
      await createRootCa({ subject: { commonName: 'other' }, validitySeconds: 86400 * 30, keyBits: 2048 }),
    );
    expect(intermediateStillGood(issued, otherRoot)).toBe(false);
    const lifetime = issued.notAfter.getTime() - issued.notBefore.getTime();
    expect(intermediateStillGood(issued, signer, issued.notBefore.getTime() + lifetime * 0.79)).toBe(true);
    expect(intermediateStillGood(issued, signer, issued.notBefore.getTime() + lifetime * 0.81)).toBe(false);
    expect(intermediateStillGood({ certificatePem: 'garbage', keyPem: issued.keyPem }, signer)).toBe(false);
  });
});

describe('an operator-supplied CA', () => {
  let opRoot: { cert: string; key: string };
  let opIntermediate: { cert: string; key: string };
  const names = { certificate: 'DCM_CA_CERT_FILE', key: 'DCM_CA_KEY_FILE', chain: 'DCM_CA_CHAIN_FILE' };

  /** A CA made by the openssl binary: self-signed, or signed by `issuer`, with the given basic constraints. */
  function opensslCa(
    name: string,
    basicConstraints: string,
    issuer?: { cert: string; key: string },
    keyAlgorithm = ['-newkey', 'rsa:2048'],
  ) {
    const key = path.join(openssl.dir, `${name}.key`);
    const cert = path.join(openssl.dir, `${name}.pem`);
    const ext = path.join(openssl.dir, `${name}.cnf`);
    fs.writeFileSync(
      ext,
      `[v3]\nbasicConstraints=${basicConstraints}\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n`,
    );
    if (!issuer) {
      const r = openssl.run([
        'req',
        '-x509',
        ...keyAlgorithm,
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-subj',
        `/O=Operator/CN=${name}`,
        '-days',
        '30',
        '-config',
        ext,
        '-extensions',
        'v3',
        '-section',
        'v3',
      ]);
      expect(r.output).not.toMatch(/error/i);
    } else {
      const csr = path.join(openssl.dir, `${name}.csr`);
      expect(
        openssl.run([
          'req',
          '-new',
          ...keyAlgorithm,
          '-nodes',
          '-keyout',
          key,
          '-out',
          csr,
          '-subj',
          `/O=Operator/CN=${name}`,
        ]).code,
      ).toBe(0);
      const signed = openssl.run([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        file(issuer.cert),
        '-CAkey',
        file(issuer.key),
        '-set_serial',
        `0x${randomBytes(8).toString('hex')}`,
        '-days',
        '30',
        '-extfile',
        ext,
        '-extensions',
        'v3',
        '-out',
        cert,
      ]);
      expect(signed.code).toBe(0);
    }
    return { cert: fs.readFileSync(cert, 'utf8'), key: fs.readFileSync(key, 'utf8') };
  }

  beforeAll(() => {
    opRoot = opensslCa('op-root', 'critical,CA:TRUE');
    opIntermediate = opensslCa('op-intermediate', 'critical,CA:TRUE,pathlen:1', opRoot);
  });

  it('signs intermediates whose chain (intermediate, operator CA, root) verifies to the operator root', async () => {
    const op = loadCaSigner(
      { certificatePem: opIntermediate.cert, keyPem: opIntermediate.key, chainPem: opRoot.cert },
      names,
    );
    expect(op.chainPem).toHaveLength(1);
    expect(new X509Certificate(op.rootPem).fingerprint256).toBe(new X509Certificate(opRoot.cert).fingerprint256);
    const issued = await issueIntermediateCa(op, intermediateOptions());
    const files = cacertsFiles(issued, op);
    const chain = pemsOf(files['cert-chain.pem']);
    expect(chain).toHaveLength(3);
    expect(verify(files['root-cert.pem'], files['ca-cert.pem'], chain.slice(1, -1))).toMatchObject({ code: 0 });
    // Without the operator's intermediate the path is incomplete.
    expect(verify(files['root-cert.pem'], files['ca-cert.pem']).code).not.toBe(0);
  });

  it('may be an EC root of its own', async () => {
    const ecRoot = opensslCa('op-ec-root', 'critical,CA:TRUE', undefined, [
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
    ]);
    const op = loadCaSigner({ certificatePem: ecRoot.cert, keyPem: ecRoot.key }, names);
    const issued = await issueIntermediateCa(op, intermediateOptions());
    expect(verify(ecRoot.cert, issued.certificatePem)).toMatchObject({ code: 0 });
    expect(text(issued.certificatePem)).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
  });

  it('is refused, naming the file, when it cannot be a signer of intermediates', () => {
    const load = (input: { certificatePem: string; keyPem: string; chainPem?: string }) => () =>
      loadCaSigner(input, names);
    expect(load({ certificatePem: opIntermediate.cert, keyPem: opRoot.key, chainPem: opRoot.cert })).toThrow(
      /DCM_CA_KEY_FILE does not match DCM_CA_CERT_FILE/,
    );
    expect(load({ certificatePem: opIntermediate.cert, keyPem: opIntermediate.key })).toThrow(
      /DCM_CA_CERT_FILE is not self-signed: give its chain up to the root in DCM_CA_CHAIN_FILE/,
    );
    const otherRoot = opensslCa('op-other-root', 'critical,CA:TRUE');
    expect(load({ certificatePem: opIntermediate.cert, keyPem: opIntermediate.key, chainPem: otherRoot.cert })).toThrow(
      /DCM_CA_CHAIN_FILE: certificate 1 of the path .* is not issued by the next one/,
    );
    const pathlen0 = opensslCa('op-pathlen0', 'critical,CA:TRUE,pathlen:0', opRoot);
    expect(load({ certificatePem: pathlen0.cert, keyPem: pathlen0.key, chainPem: opRoot.cert })).toThrow(
      /path length constraint is 0/,
    );
    const notCa = opensslCa('op-leaf', 'critical,CA:FALSE', opRoot);
    expect(load({ certificatePem: notCa.cert, keyPem: notCa.key, chainPem: opRoot.cert })).toThrow(
      /DCM_CA_CERT_FILE: not a CA certificate/,
    );
    expect(load({ certificatePem: 'not a pem', keyPem: opRoot.key })).toThrow(/DCM_CA_CERT_FILE: no PEM block/);
    expect(load({ certificatePem: opRoot.cert, keyPem: 'not a key' })).toThrow(/DCM_CA_KEY_FILE: no PEM private key/);
  });

  it('is refused when it is not valid now', () => {
    const keys = forge.pki.rsa.generateKeyPair(2048);
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date(Date.now() - 10 * 86400_000);
    cert.validity.notAfter = new Date(Date.now() - 86400_000);
    cert.setSubject([{ name: 'commonName', value: 'expired' }]);
    cert.setIssuer([{ name: 'commonName', value: 'expired' }]);
    cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }]);
    cert.sign(keys.privateKey, forge.md.sha256.create());
    expect(() =>
      loadCaSigner(
        { certificatePem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) },
        names,
      ),
    ).toThrow(/DCM_CA_CERT_FILE: not valid now/);
  });
});
