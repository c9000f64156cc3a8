/**
 * Issue 17 item 5: token users (`spec.user.type: "Token"`, the design's spelling): a ServiceAccount
 * in the logical cloud's namespace bound like the certificate identity, and kubeconfigs carrying a
 * new bound token (TokenRequest API) at each download; for clusters that issue no client
 * certificates. Tested with kubectl on both clusters; revocation invalidates the tokens; UNPW is a 400.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { kubectl } from '../support/backends.js';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import { expectError, lcPath, setUpProjectAndClusters } from '../support/rest.js';
import { applyAndSettle, removeLeftovers, type ClusterIndex } from './apply-helpers.js';

const PROJECT = 'project-token';
const LC = 'lc-token';
const NS = 'ns-token';

describe('token users', () => {
  let t: TestDcm;
  const both: ClusterIndex[] = [0, 1];

  const body = (type: string) => {
    const lc = design.logicalCloud();
    lc.metadata.name = LC;
    lc.spec.namespace = NS;
    lc.spec.user.type = type;
    lc.spec.user['user-permissions'] = [
      { 'permission-name': 'configmaps', apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'create'] },
    ];
    return lc;
  };
  const download = async () => {
    const res = await t.http.get(`${lcPath(PROJECT, LC)}/kubeconfig`);
    expect(res.status).toBe(200);
    return res.text;
  };
  const inContext = (kubeconfig: string, cluster: ClusterIndex, ...args: string[]) =>
    kubectl({ text: kubeconfig }, ['--context', `user-1@cluster-${cluster + 1}`, ...args]);
  const canI = async (kubeconfig: string, cluster: ClusterIndex, ...args: string[]) =>
    (await inContext(kubeconfig, cluster, 'auth', 'can-i', ...args)).stdout.trim();

  beforeAll(async () => {
    await removeLeftovers([NS], [LC]);
    t = await startTestDcm('token_users');
    await setUpProjectAndClusters(t, PROJECT);
  });

  afterAll(async () => {
    const res = await t.http.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, LC);
    await t?.close();
  });

  it('refuses UNPW, saying Kubernetes removed basic authentication', async () => {
    expectError(
      await t.http.post(`/v2/projects/${PROJECT}/logical-clouds`).send(body('UNPW')),
      400,
      /removed basic authentication in 1\.19/,
    );
  });

  it('a token kubeconfig can exactly what was granted, on both clusters', async () => {
    await t.http.post(`/v2/projects/${PROJECT}/logical-clouds`).send(body('Token')).expect(201);
    for (const c of ['cluster-1', 'cluster-2'])
      await t.http
        .post(`${lcPath(PROJECT, LC)}/cluster-references`)
        .send({ name: c })
        .expect(201);
    const status = await applyAndSettle(t, PROJECT, LC);
    expect(status.state).toBe('Instantiated');
    expect(status.clusters.map((c) => c['user-certificate-status'])).toEqual(['Created', 'Created']);
    const kubeconfig = await download();
    const users = (yaml.load(kubeconfig) as { users: { user: Record<string, string> }[] }).users;
    expect(users.map((u) => Object.keys(u.user))).toEqual([['token'], ['token']]);
    for (const i of both) {
      expect(await canI(kubeconfig, i, 'list', 'configmaps', '-n', NS)).toBe('yes');
      expect(await canI(kubeconfig, i, 'list', 'secrets', '-n', NS)).toBe('no');
      expect(await canI(kubeconfig, i, 'list', 'configmaps', '-n', 'kube-system')).toBe('no');
      const whoami = await inContext(kubeconfig, i, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}');
      expect(whoami.stdout).toMatch(new RegExp(`^system:serviceaccount:${NS}:dcm-tenant-[0-9a-f]{12}$`));
      expect((await inContext(kubeconfig, i, 'create', 'configmap', `made-by-token-${i}`, '-n', NS)).code).toBe(0);
    }
    // A new token at each download.
    expect(await download()).not.toBe(kubeconfig);
  });

  it('revocation invalidates every token issued before it', async () => {
    const before = await download();
    expect((await t.http.post(`${lcPath(PROJECT, LC)}/revoke-credentials`)).status).toBe(202);
    await t.dcm.services.lifecycle.settled(PROJECT, LC);
    const after = await download();
    for (const i of both) {
      const old = await inContext(before, i, 'get', 'configmaps', '-n', NS);
      expect(old.code).not.toBe(0);
      expect(old.stderr).toMatch(/Unauthorized|must be logged in/i);
      expect(await canI(after, i, 'list', 'configmaps', '-n', NS)).toBe('yes');
    }
  });
});
