/**
 * Issue 29 item 4: revocation that cleans up, on a real test cluster. With the tenant's own
 * kubeconfig, kubectl makes an identity of the tenant's own: a ServiceAccount, a RoleBinding of it
 * to the tenant's Role and a token Secret of it (its token requested bound to that Secret, as the
 * test cluster runs no legacy token controller). A revocation alone makes the old kubeconfig
 * Forbidden but leaves that token working; `{"removeTenantIdentities": true}` removes the account,
 * its Secret and its binding (status and the audit log list them) and the token stops working.
 * The body is strict on REST and gRPC alike.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { defaultConfig } from '../../src/config.js';
import { kubectl, testClusters, type CommandResult } from '../support/backends.js';
import { captureLogger, startTestDcm, type TestDcm } from '../support/dcm.js';
import { grpcError, startTestGrpc, struct, type TestGrpc } from '../support/grpc.js';
import { createProject, createProvider, expectError, fieldsOf, kubeconfigText, lcPath } from '../support/rest.js';
import { until } from '../support/until.js';
import {
  applyAndSettle,
  removeLeftovers,
  statusOf,
  tenantKubeconfig,
  tenantLogicalCloud,
  type ResourceLine,
} from './apply-helpers.js';

const PROJECT = 'project-revoke';
const LC = 'lc-revoke';
const NS = 'ns-revoke';
/** The tenant's Role: the DCM's name for its permission `tenant-ops`. */
const ROLE = 'dcm-tenant-ops';
const ACCOUNT = 'sneaky';
const SECRET = 'sneaky-token';

/** A kubeconfig of test cluster 1 that authenticates with a bearer token. */
function tokenKubeconfig(token: string): string {
  const config = yaml.load(kubeconfigText(1)) as {
    contexts: { context: { user: string } }[];
    users: { name: string; user: unknown }[];
  };
  config.users = [{ name: 'token', user: { token } }];
  for (const c of config.contexts) c.context.user = 'token';
  return yaml.dump(config);
}

describe('revoke-credentials with removeTenantIdentities', () => {
  let t: TestDcm;
  let g: TestGrpc;
  const logs = captureLogger('info');
  let dir: string;

  const revoke = (body?: unknown) => {
    const req = t.http.post(`${lcPath(PROJECT, LC)}/revoke-credentials`);
    return body === undefined ? req : req.send(body as object);
  };
  const revokeAndSettle = async (body?: unknown) => {
    const res = await revoke(body);
    expect({ status: res.status, body: res.body as unknown }).toMatchObject({
      status: 202,
      body: { status: 'Creation in Progress' },
    });
    await t.dcm.services.lifecycle.settled(PROJECT, LC);
    const status = await statusOf(t.http, PROJECT, LC);
    expect({ state: status.state, errors: status.clusters.flatMap((c) => c.errors) }).toEqual({
      state: 'Instantiated',
      errors: [],
    });
    return status;
  };
  /** kubectl succeeded (its stderr shown when it did not). */
  const ok = (result: CommandResult) =>
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  const works = async (kubeconfig: string) =>
    (await kubectl({ text: kubeconfig }, ['get', 'configmaps', '-n', NS, '-o', 'name'])).code === 0;

  beforeAll(async () => {
    await removeLeftovers([NS], [LC]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcm-revoke-'));
    t = await startTestDcm('revocation_cleanup', {
      logger: logs.logger,
      config: { ...defaultConfig(), DCM_CLUSTER_TIMEOUT_MS: 10_000 },
    });
    g = await startTestGrpc(t);
    await createProject(t, PROJECT);
    await createProvider(t, 'provider-1');
    await t.http
      .post('/v2/cluster-providers/provider-1/clusters')
      .send({ metadata: { name: 'cluster-1' }, spec: { kubeconfig: kubeconfigText(1) } })
      .expect(201);
    const body = tenantLogicalCloud(LC, NS, 'user-revoke');
    // What a tenant commonly may do in its namespace: accounts, their tokens, Secrets, bindings of its own role.
    body.spec.user['user-permissions'] = [
      {
        'permission-name': 'tenant-ops',
        apiGroups: ['', 'rbac.authorization.k8s.io'],
        resources: ['configmaps', 'secrets', 'serviceaccounts', 'serviceaccounts/token', 'rolebindings'],
        verbs: ['get', 'list', 'create'],
      },
    ];
    await t.http.post(`/v2/projects/${PROJECT}/logical-clouds`).send(body).expect(201);
    await t.http
      .post(`${lcPath(PROJECT, LC)}/cluster-references`)
      .send({ name: 'cluster-1', 'cluster-provider': 'provider-1', 'cluster-name': 'cluster-1' })
      .expect(201);
    expect((await applyAndSettle(t, PROJECT, LC)).state).toBe('Instantiated');
  });

  afterAll(async () => {
    await g?.close();
    const res = await t?.http.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res?.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, LC);
    await t?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a revocation alone leaves the tenant's own account working; with removeTenantIdentities it is removed, and status and audit list it", async () => {
    const tenant = await tenantKubeconfig(t.http, PROJECT, LC, 'cluster-1');
    const asTenant = (args: string[]) => kubectl({ text: tenant }, args);
    ok(await asTenant(['create', 'serviceaccount', ACCOUNT, '-n', NS]));
    ok(
      await asTenant([
        'create',
        'rolebinding',
        ACCOUNT,
        `--role=${ROLE}`,
        `--serviceaccount=${NS}:${ACCOUNT}`,
        '-n',
        NS,
      ]),
    );
    const manifest = path.join(dir, 'secret.yaml');
    fs.writeFileSync(
      manifest,
      yaml.dump({
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/service-account-token',
        metadata: { name: SECRET, namespace: NS, annotations: { 'kubernetes.io/service-account.name': ACCOUNT } },
      }),
    );
    ok(await asTenant(['create', '-f', manifest]));
    const issued = await asTenant([
      'create',
      'token',
      ACCOUNT,
      '-n',
      NS,
      '--bound-object-kind=Secret',
      `--bound-object-name=${SECRET}`,
      '--duration=24h',
    ]);
    ok(issued);
    const account = tokenKubeconfig(issued.stdout.trim());
    expect(await works(account)).toBe(true);

    // Revocation alone: the DCM's credential is over, the tenant's own account is not (what docs/security-model.md says it does not cover).
    await revokeAndSettle();
    expect((await asTenant(['get', 'configmaps', '-n', NS])).stderr).toMatch(/forbidden/i);
    expect(await works(account)).toBe(true);

    // With removeTenantIdentities: the account, its token Secret and its binding go; the DCM's own objects stay.
    const cleaned = await revokeAndSettle({ removeTenantIdentities: true });
    // Its binding is gone at once (Forbidden); the token itself is refused once the API server sees its account gone.
    const unauthorized = async () =>
      /Unauthorized|must be logged in/i.test(
        (await kubectl({ text: account }, ['get', 'configmaps', '-n', NS])).stderr,
      );
    await until(unauthorized, "the tenant's own token to be refused (Unauthorized)");
    expect(await works(account)).toBe(false);
    const removed = (cleaned.clusters[0]!.resources as ResourceLine[]).filter((r) =>
      r.message?.includes('removed with the revocation'),
    );
    expect(removed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          category: 'role-binding',
          kind: 'RoleBinding',
          name: ACCOUNT,
          status: 'Deleted',
          message: expect.stringMatching(/binds ServiceAccount ns-revoke\/sneaky; made by the tenant, not the DCM/),
        }),
        expect.objectContaining({ category: 'user-certificate', kind: 'Secret', name: SECRET, status: 'Deleted' }),
        expect.objectContaining({
          category: 'user-certificate',
          kind: 'ServiceAccount',
          name: ACCOUNT,
          status: 'Deleted',
        }),
      ]),
    );
    expect(removed).toHaveLength(3);
    const body = (await t.http.get(`${lcPath(PROJECT, LC)}/status`).expect(200)).body as {
      operation: { removeTenantIdentities?: boolean };
    };
    expect(body.operation.removeTenantIdentities).toBe(true);
    const audit = logs.records().filter((r) => r.audit === true && r.event === 'tenant-identities-removed');
    expect(audit).toEqual([
      expect.objectContaining({
        project: PROJECT,
        logicalCloud: LC,
        cluster: 'provider-1/cluster-1',
        removed: [`RoleBinding ${NS}/${ACCOUNT}`, `Secret ${NS}/${SECRET}`, `ServiceAccount ${NS}/${ACCOUNT}`],
      }),
    ]);
    // The DCM's own binding and the `default` account are still there; the new kubeconfig works.
    const admin = { path: testClusters[0].kubeconfigPath() };
    expect((await kubectl(admin, ['get', 'rolebinding', ROLE, '-n', NS, '-o', 'name'])).code).toBe(0);
    expect((await kubectl(admin, ['get', 'serviceaccount', 'default', '-n', NS, '-o', 'name'])).code).toBe(0);
    expect(await works(await tenantKubeconfig(t.http, PROJECT, LC, 'cluster-1'))).toBe(true);
  });

  it('takes no body, {} or {"removeTenantIdentities": <boolean>}: anything else is a 400 / INVALID_ARGUMENT naming the field', async () => {
    const unknown = await revoke({ removeTenantIdentity: true });
    expectError(unknown, 400);
    expect(fieldsOf(unknown)).toEqual(['removeTenantIdentity']);
    const notBoolean = await revoke({ removeTenantIdentities: 'yes' });
    expectError(notBoolean, 400);
    expect(fieldsOf(notBoolean)).toEqual(['removeTenantIdentities']);
    expectError(await revoke([]), 400);

    const refused = await grpcError(
      g.call('RevokeCredentials', { project: PROJECT, logical_cloud: LC, body: struct({ metadata: { name: '' } }) }),
    );
    expect(refused.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(refused.details).toMatch(/body\.metadata/);
    expect((await statusOf(t.http, PROJECT, LC)).operation?.inProgress).toBe(false);

    const accepted = await g.call<{ state: string }>('RevokeCredentials', {
      project: PROJECT,
      logical_cloud: LC,
      body: struct({ removeTenantIdentities: true }),
    });
    expect(accepted.state).toBe('Instantiating');
    await t.dcm.services.lifecycle.settled(PROJECT, LC);
    const body = (await t.http.get(`${lcPath(PROJECT, LC)}/status`).expect(200)).body as {
      state: string;
      operation: { removeTenantIdentities?: boolean };
    };
    expect(body).toMatchObject({ state: 'Instantiated', operation: { removeTenantIdentities: true } });
  });
});
