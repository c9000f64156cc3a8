/**
 * Issue 16 item 4 over REST: `spec.serviceMesh.nameConstraints` (default true) is accepted, stored
 * and shown; false (ambient mode: ztunnel rejects URI name constraints) reaches the CA, whose
 * intermediates then carry no name constraint (test/unit/certificate-authority-controllers.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { createProject, lcPath } from '../support/rest.js';
import { tenantLogicalCloud } from './apply-helpers.js';

describe('service mesh name constraints over REST', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('mesh_name_constraints');
    await createProject(t, 'p-nc');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('defaults to true, keeps false, and shows it', async () => {
    const body = (name: string, serviceMesh: Record<string, unknown>) => {
      const lc = tenantLogicalCloud(name, `ns-${name}`, 'user-nc');
      return { ...lc, spec: { ...lc.spec, serviceMesh } };
    };
    await t.http
      .post('/v2/projects/p-nc/logical-clouds')
      .send(body('nc-default', { enabled: true }))
      .expect(201);
    await t.http
      .post('/v2/projects/p-nc/logical-clouds')
      .send(body('nc-ambient', { enabled: true, nameConstraints: false }))
      .expect(201);
    const shown = async (name: string) =>
      ((await t.http.get(lcPath('p-nc', name)).expect(200)).body as { spec: { serviceMesh: unknown } }).spec
        .serviceMesh;
    expect(await shown('nc-default')).toEqual({ enabled: true, nameConstraints: true });
    expect(await shown('nc-ambient')).toEqual({ enabled: true, nameConstraints: false });
    const stored = await t.dcm.services.logicalClouds.resolve('p-nc', 'nc-ambient');
    expect(stored.data.serviceMesh).toEqual({ enabled: true, nameConstraints: false });
  });
});
