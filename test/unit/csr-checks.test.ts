import { describe, expect, it } from '@jest/globals';
import { csrMismatch, type SubmittedCsr } from '../../src/controllers/user.controller.js';

describe('the DCM approves only its own CSRs', () => {
  const submitted: SubmittedCsr = { uid: 'uid-1', username: 'dcm-admin', request: 'cmVxdWVzdA==' };
  const read = (uid: string, username: string, request: string) => ({
    metadata: { uid },
    spec: { username, request, signerName: 'x' },
  });

  it('accepts the object it created, requested by itself, with its request', () => {
    expect(csrMismatch(read('uid-1', 'dcm-admin', 'cmVxdWVzdA=='), submitted)).toBeUndefined();
  });

  it.each([
    ['another object under the same name', read('uid-2', 'dcm-admin', 'cmVxdWVzdA=='), /another object/],
    ['another requester', read('uid-1', 'mallory', 'cmVxdWVzdA=='), /requested by mallory/],
    ['another request', read('uid-1', 'dcm-admin', 'b3RoZXI='), /another certificate request/],
  ])('refuses %s', (_what, csr, reason) => {
    expect(csrMismatch(csr, submitted)).toMatch(reason);
  });

  it('refuses when the create answered no uid or username', () => {
    expect(csrMismatch(read('uid-1', 'dcm-admin', 'cmVxdWVzdA=='), { ...submitted, uid: undefined })).toMatch(
      /another object/,
    );
  });
});
