/**
 * A client certificate signed by the cluster's CSR API (signer kubernetes.io/kube-apiserver-client):
 * the DCM creates the request, reads it back and checks it is its own (uid, requester, request)
 * before it approves it, and uses the certificate only if the signed request is still its own.
 */
import { CertificatesV1Api, type KubeConfig, type V1CertificateSigningRequest } from '@kubernetes/client-node';
import { ClusterError, toClusterError } from './cluster-errors.js';
import type { ClientCertificateRequest, ObjectRef } from './cluster-gateway.js';
import { WaitTimeoutError, waitForObject } from './wait-for-object.js';

/** What the API server recorded when the DCM created its CSR. */
export interface SubmittedCsr {
  uid: string | undefined;
  username: string | undefined;
  /** Base64 of the PEM request, as sent. */
  request: string;
}

/** The parts of a CertificateSigningRequest the checks read. */
export interface CsrIdentity {
  metadata?: { uid?: string };
  spec: { username?: string; request: string };
}

/**
 * Why a CSR read back by name is not the DCM's own (another object, another requester, another
 * request), or undefined when it is: only then is it approved, and only its certificate used.
 */
export function csrMismatch(csr: CsrIdentity, submitted: SubmittedCsr): string | undefined {
  if (!submitted.uid || csr.metadata?.uid !== submitted.uid) return 'another object under the same name';
  if (!submitted.username || csr.spec.username !== submitted.username) {
    return `requested by ${csr.spec.username ?? 'nobody'}, not by the DCM`;
  }
  if (csr.spec.request !== submitted.request) return 'another certificate request';
  return undefined;
}

/** What signing takes of the gateway on a real API server. */
export interface CsrSigningConnection {
  kubeConfig: KubeConfig;
  /** The call, with the gateway's timeout; its failure as a ClusterError. */
  withTimeout<T>(what: string, call: Promise<T>): Promise<T>;
  /** Deletes the object; false when it was already gone. */
  remove(ref: ObjectRef): Promise<boolean>;
}

const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

const refusal = (csr: V1CertificateSigningRequest) =>
  csr.status?.conditions?.find((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status === 'True');

/** Has the cluster sign the request (ClusterGateway.signClientCertificate); the certificate, PEM. */
export async function signClientCertificate(
  { kubeConfig, withTimeout, remove }: CsrSigningConnection,
  request: ClientCertificateRequest,
): Promise<string> {
  const { name } = request;
  const api = kubeConfig.makeApiClient(CertificatesV1Api);
  const csrRef = { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', name };
  await remove(csrRef);
  const body = Buffer.from(request.csrPem).toString('base64');
  const created = await withTimeout(
    `create CertificateSigningRequest ${name}`,
    api.createCertificateSigningRequest({
      body: {
        metadata: { name, ...(request.labels ? { labels: request.labels } : {}) },
        spec: {
          request: body,
          signerName: 'kubernetes.io/kube-apiserver-client',
          usages: ['digital signature', 'key encipherment', 'client auth'],
          // The CSR API takes no less than 600 s.
          expirationSeconds: Math.max(600, request.expirationSeconds),
        },
      },
    }),
  );
  // What the API server recorded of the DCM's own request: its uid and the DCM's identity as it authenticated it.
  const submitted: SubmittedCsr = { uid: created.metadata?.uid, username: created.spec.username, request: body };
  await request.beforeApproval?.(name);
  const csr = await withTimeout(`read CertificateSigningRequest ${name}`, api.readCertificateSigningRequest({ name }));
  const replaced = csrMismatch(csr, submitted);
  if (replaced) {
    const message = `not the request the DCM submitted: ${replaced}`;
    csr.status = { ...csr.status, conditions: [{ type: 'Denied', status: 'True', reason: 'DCMDenied', message }] };
    await withTimeout(
      `deny CertificateSigningRequest ${name}`,
      api.replaceCertificateSigningRequestApproval({ name, body: csr }),
    ).catch(() => undefined);
    throw new ClusterError(
      `CertificateSigningRequest ${name} is not the one the DCM submitted (${replaced}): denied, not approved`,
    );
  }
  const approved = { type: 'Approved', status: 'True', reason: 'DCMApproved', message: request.approvalMessage };
  csr.status = { ...csr.status, conditions: [approved] };
  await withTimeout(
    `approve CertificateSigningRequest ${name}`,
    api.replaceCertificateSigningRequestApproval({ name, body: csr }),
  );
  let signed: V1CertificateSigningRequest | undefined;
  try {
    signed = await waitForObject<V1CertificateSigningRequest>({
      kubeConfig,
      collectionPath: CSR_PATH,
      name,
      timeoutMs: request.signTimeoutMs,
      condition: (o) => Boolean(o.status?.certificate) || refusal(o) !== undefined,
    });
  } catch (error) {
    if (error instanceof WaitTimeoutError) {
      throw new ClusterError(`CertificateSigningRequest ${name}: not signed within ${request.signTimeoutMs} ms`);
    }
    throw toClusterError(error, `wait for CertificateSigningRequest ${name}`);
  }
  const refused = refusal(signed!);
  if (refused) {
    const reason = refused.message ?? refused.reason ?? '';
    throw new ClusterError(`CertificateSigningRequest ${name} ${refused.type}: ${reason}`);
  }
  const swapped = csrMismatch(signed!, submitted);
  if (swapped) {
    throw new ClusterError(
      `CertificateSigningRequest ${name} was replaced while it was signed (${swapped}): its certificate is not used`,
    );
  }
  await remove(csrRef);
  return Buffer.from(signed!.status!.certificate!, 'base64').toString('utf8');
}
