/** Where CertificateError used to live; kept so that its importers need not change. */
export { CertificateError } from './pem.js';
