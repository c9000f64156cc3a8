/** A logical cloud's tenant credentials: one generation at a time, a private key and a certificate per cluster. */

export interface IssuedCertificate {
  reference: string;
  certificate: string;
  /** Absent on certificates stored before renewal existed (their renewal is judged from a year's lifetime). */
  notBefore?: Date;
  notAfter: Date;
  signedBy: 'cluster' | 'dcm-with-cluster-ca';
}

export interface CredentialGeneration {
  generation: number;
  generationId: string;
}

/** A logical cloud's credentials with the private key opened. */
export interface Credentials extends Partial<CredentialGeneration> {
  logicalCloudId: string;
  privateKey: string;
  keyBits: number;
  certificates: IssuedCertificate[];
}

/** When a certificate is to be renewed: two thirds into its actual lifetime. */
export function renewalTime(c: Pick<IssuedCertificate, 'notBefore' | 'notAfter'>): Date {
  const notAfter = c.notAfter.getTime();
  const notBefore = c.notBefore?.getTime() ?? notAfter - 365 * 24 * 3600 * 1000;
  return new Date(notBefore + ((notAfter - notBefore) * 2) / 3);
}
