/**
 * Issue 15 item 1: existing ONAP/EMCO clients work unchanged. Real curl against a listening DCM,
 * sending bodies exactly as `curl -d` does (labelled application/x-www-form-urlencoded) and with
 * no content type at all; then ONAP's own DCM client flow (src/dcm/test/dcm_call_api.sh of
 * onap/multicloud-k8s, with this file's names): logical cloud, two references in the ONAP form,
 * the 23-key quota, reads, apply with no body, the per-reference kubeconfig used with kubectl,
 * terminate and clean-up.
 */
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { kubectl } from '../support/backends.js';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import { createProject, createProvider, registerCluster } from '../support/rest.js';
import { removeLeftovers } from './apply-helpers.js';

const PROJECT = 'test-project';
const LC = 'lc-onap';
const NS = 'ns-onap';

interface CurlAnswer {
  status: number;
  body: string;
}

describe('ONAP and EMCO clients as they call the DCM', () => {
  let t: TestDcm;
  let server: Server;
  let base: string;

  /** curl as the scripts run it: `curl -d <data> -X POST <url>` (plus -w to read the status), or with extra options. */
  const curl = (args: string[]): Promise<CurlAnswer> =>
    new Promise((resolve, reject) => {
      execFile('curl', ['-sS', '-w', '\n%{http_code}', ...args], { timeout: 30_000 }, (error, stdout) => {
        if (error) return reject(error);
        const cut = stdout.lastIndexOf('\n');
        resolve({ body: stdout.slice(0, cut), status: Number(stdout.slice(cut + 1)) });
      });
    });
  const postD = (path: string, data: unknown) => curl(['-d', JSON.stringify(data), '-X', 'POST', `${base}${path}`]);
  const lcUrl = `/v2/projects/${PROJECT}/logical-clouds`;

  beforeAll(async () => {
    await removeLeftovers([NS, 'ns-curl-1'], [LC, 'lc-curl']);
    t = await startTestDcm('onap_clients');
    server = await new Promise<Server>((resolve) => {
      const s = t.dcm.app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The orchestrator and clm services registered these in ONAP; the script does not.
    await createProject(t, PROJECT);
    await createProvider(t, 'cp-1');
    await registerCluster(t, 'cp-1', 'c1', 1);
    await registerCluster(t, 'cp-1', 'c2', 2);
  });

  afterAll(async () => {
    const res = await t.http.post(`${lcUrl}/${LC}/terminate`);
    if (res.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, LC);
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
  });

  it('reads every design body as JSON when curl -d labels it a form, and when it carries no content type', async () => {
    const lc = design.logicalCloud();
    lc.metadata.name = 'lc-curl';
    lc.spec.namespace = 'ns-curl-1';
    expect((await postD(lcUrl, lc)).status).toBe(201);
    const noType = ['-H', 'Content-Type:'];
    const children: [string, unknown][] = [
      ['user-permissions', design.permission3()],
      ['cluster-quotas', design.quota()],
      ['kv-pairs', design.kvPair()],
      ['cluster-references', { name: 'c1', 'cluster-provider': 'cp-1', 'cluster-name': 'c1' }],
    ];
    for (const [collection, body] of children) {
      const answer = await curl([
        ...noType,
        '-d',
        JSON.stringify(body),
        '-X',
        'POST',
        `${base}${lcUrl}/lc-curl/${collection}`,
      ]);
      expect({ collection, status: answer.status }).toEqual({ collection, status: 201 });
    }
    const put = await curl([
      '-d',
      JSON.stringify(design.permission3Update()),
      '-X',
      'PUT',
      `${base}${lcUrl}/lc-curl/user-permissions/permission-3`,
    ]);
    expect(put.status).toBe(200);
    // Not JSON at all: a clear 400 naming the problem, not a 415 and not a 500.
    const garbage = await curl(['-d', 'name=lc-x&namespace=ns', '-X', 'POST', `${base}${lcUrl}`]);
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.body)).toMatchObject({ message: 'request body is not valid JSON' });
    expect((await curl(['-X', 'DELETE', `${base}${lcUrl}/lc-curl/cluster-references/c1`])).status).toBe(204);
  });

  it("runs ONAP's dcm_call_api.sh flow: create, add two clusters and the quota, read, apply, kube, clean", async () => {
    const logicalCloud = {
      metadata: { name: LC, description: 'test-description', userData1: '<user data>', userData2: '<user data>' },
      spec: {
        namespace: NS,
        user: {
          'user-name': 'user-1',
          type: 'certificate',
          'user-permissions': [
            {
              'permission-name': 'permission-1',
              apiGroups: [''],
              resources: ['secrets', 'pods'],
              verbs: ['get', 'watch', 'list', 'create'],
            },
          ],
        },
      },
    };
    const reference = (name: string, cluster: string, ip: string) => ({
      metadata: { name, description: 'test-description', userData1: '<user data>', userData2: '<user data>' },
      spec: { 'cluster-provider': 'cp-1', 'cluster-name': cluster, 'loadbalancer-ip': ip },
    });
    const quota = {
      metadata: { name: 'quota-1', description: 'test-description' },
      spec: {
        'limits.cpu': '400',
        'limits.memory': '1000Gi',
        'requests.cpu': '300',
        'requests.memory': '900Gi',
        'requests.storage': '500Gi',
        'requests.ephemeral-storage': '500',
        'limits.ephemeral-storage': '500',
        persistentvolumeclaims: '500',
        pods: '500',
        configmaps: '1000',
        replicationcontrollers: '500',
        resourcequotas: '500',
        services: '500',
        'services.loadbalancers': '500',
        'services.nodeports': '500',
        secrets: '500',
        'count/replicationcontrollers': '500',
        'count/deployments.apps': '500',
        'count/replicasets.apps': '500',
        'count/statefulsets.apps': '500',
        'count/jobs.batch': '500',
        'count/cronjobs.batch': '500',
        'count/deployments.extensions': '500',
      },
    };
    expect(Object.keys(quota.spec)).toHaveLength(23);
    const clusterUrl = `${lcUrl}/${LC}/cluster-references`;
    expect((await postD(lcUrl, logicalCloud)).status).toBe(201);
    expect((await postD(clusterUrl, reference('lc-cl-1', 'c1', '0.0.0.0'))).status).toBe(201);
    expect((await postD(clusterUrl, reference('lc-cl-2', 'c2', '0.0.0.1'))).status).toBe(201);
    expect((await postD(`${lcUrl}/${LC}/cluster-quotas`, quota)).status).toBe(201);

    for (const path of [
      `${lcUrl}/${LC}`,
      clusterUrl,
      `${clusterUrl}/lc-cl-1`,
      `${clusterUrl}/lc-cl-2`,
      `${lcUrl}/${LC}/cluster-quotas/quota-1`,
    ]) {
      expect({ path, status: (await curl(['-X', 'GET', `${base}${path}`])).status }).toEqual({ path, status: 200 });
    }
    const quotaRead = JSON.parse((await curl(['-X', 'GET', `${base}${lcUrl}/${LC}/cluster-quotas/quota-1`])).body) as {
      spec: Record<string, string>;
    };
    expect(quotaRead.spec).toEqual(quota.spec);

    const applied = await curl(['-X', 'POST', `${base}${lcUrl}/${LC}/apply`]);
    expect(applied.status).toBe(200);
    await t.dcm.services.lifecycle.settled(PROJECT, LC);
    const status = JSON.parse((await curl(['-X', 'GET', `${base}${lcUrl}/${LC}/status`])).body) as { status: string };
    expect(status.status).toBe('Created');

    for (const ref of ['lc-cl-1', 'lc-cl-2']) {
      const kube = await curl(['-X', 'GET', `${base}${clusterUrl}/${ref}/kubeconfig`]);
      expect(kube.status).toBe(200);
      expect((await kubectl({ text: kube.body }, ['auth', 'can-i', 'list', 'secrets', '-n', NS])).stdout.trim()).toBe(
        'yes',
      );
      expect(
        (await kubectl({ text: kube.body }, ['auth', 'can-i', 'list', 'secrets', '-n', 'kube-system'])).stdout.trim(),
      ).toBe('no');
      expect((await kubectl({ text: kube.body }, ['get', 'resourcequota', '-n', NS, '-o', 'name'])).code).not.toBe(0); // not granted: resourcequotas
    }

    expect((await curl(['-X', 'POST', `${base}${lcUrl}/${LC}/terminate`])).status).toBe(202);
    await t.dcm.services.lifecycle.settled(PROJECT, LC);
    expect((await curl(['-X', 'DELETE', `${base}${lcUrl}/${LC}/cluster-quotas/quota-1`])).status).toBe(204);
    expect((await curl(['-X', 'DELETE', `${base}${clusterUrl}/lc-cl-1`])).status).toBe(204);
    expect((await curl(['-X', 'DELETE', `${base}${clusterUrl}/lc-cl-2`])).status).toBe(204);
    expect((await curl(['-X', 'DELETE', `${base}${lcUrl}/${LC}`])).status).toBe(204);
  });
});
