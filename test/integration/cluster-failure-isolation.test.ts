/**
 * Issue 14 item 6: a cluster whose stored kubeconfig cannot be loaded fails its own entries and
 * nothing else. The apply ends (never "in progress" forever), the healthy cluster is applied,
 * the broken cluster can be deleted once unreferenced, and neither the status nor any log line
 * quotes kubeconfig content (keys, tokens).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { captureLogger, startTestDcm, testCipher, type TestDcm } from '../support/dcm.js';
import { caKeyText, lcPath, setUpProjectAndClusters } from '../support/rest.js';
import {
  applyAndSettle,
  clusterEntry,
  namespaceExists,
  removeLeftovers,
  tenantLogicalCloud,
  terminateAndSettle,
} from './apply-helpers.js';

const PROJECT = 'project-isolation';
const LC = 'lc-isolation';
const NS = 'ns-isolation';

describe('a cluster that cannot be loaded fails alone', () => {
  let t: TestDcm;
  const logs = captureLogger('debug');
  /** Something that looks like a kubeconfig with key material but is none: the loader's message could quote it. */
  const key = caKeyText(1) ?? '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n';
  const broken = `client-key-data: ${Buffer.from(key).toString('base64')}\ntoken: s3cr3t-t0ken-value\n${key}\n: : [unbalanced`;

  beforeAll(async () => {
    await removeLeftovers([NS], [LC]);
    t = await startTestDcm('isolation', { logger: logs.logger });
    await setUpProjectAndClusters(t, PROJECT);
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud(LC, NS, 'user-isolation'))
      .expect(201);
    for (const c of ['cluster-1', 'cluster-2'])
      await t.http
        .post(`${lcPath(PROJECT, LC)}/cluster-references`)
        .send({ name: c })
        .expect(201);
    const sealed = testCipher.seal(broken, 'cluster/provider-1/cluster-2/kubeconfig');
    const written = await t.mongo
      .db(t.databaseName)
      .collection('clusters')
      .updateOne({ name: 'cluster-2' }, { $set: { 'data.secrets.kubeconfig': sealed } });
    expect(written.modifiedCount).toBe(1);
  });

  afterAll(async () => {
    const res = await t.http.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, LC);
    await t?.close();
  });

  it('applies the healthy cluster, fails the broken one with a message that quotes nothing, and ends', async () => {
    const status = await applyAndSettle(t, PROJECT, LC);
    expect(status.state).toBe('InstantiateFailed');
    expect(status.operation?.inProgress).toBe(false);
    expect(clusterEntry(status, 'cluster-1').state).toBe('Applied');
    const failed = clusterEntry(status, 'cluster-2');
    expect(failed.state).toBe('Failed');
    expect(failed.errors.length).toBeGreaterThan(0);
    const text = JSON.stringify(status);
    for (const leak of ['BEGIN', 'client-key-data', 's3cr3t', Buffer.from(key).toString('base64').slice(0, 40)])
      expect(text).not.toContain(leak);
    expect(await namespaceExists(0, NS)).toBe(true);
    expect(await namespaceExists(1, NS)).toBe(false);
  });

  it('the broken cluster can be deleted once unreferenced; nothing of it is held', async () => {
    await t.http.delete(`${lcPath(PROJECT, LC)}/cluster-references/cluster-2`).expect(204);
    await t.http.delete('/v2/cluster-providers/provider-1/clusters/cluster-2').expect(204);
    const status = await applyAndSettle(t, PROJECT, LC);
    expect(status.state).toBe('Instantiated');
    expect(status.clusters.map((c) => c['cluster-reference'])).toEqual(['cluster-1']);
    expect((await terminateAndSettle(t, PROJECT, LC)).state).toBe('Terminated');
  });

  it('no log line carries key material or tokens', () => {
    const text = logs.text();
    expect(text.length).toBeGreaterThan(0);
    for (const leak of ['BEGIN', 'client-key-data', 's3cr3t', 'token:']) expect(text).not.toContain(leak);
  });
});
