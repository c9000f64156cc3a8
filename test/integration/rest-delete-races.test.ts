/**
 * A parent deleted while a child is created under it: one of the two may win, or both
 * may give up, but a child is never left under a parent that is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import { createProject, createProvider, kubeconfigText } from '../support/rest.js';

const ROUNDS = 10;

describe('REST parent deleted while a child is created', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('rest_delete_races');
  });

  afterAll(async () => {
    await t.close();
  });

  /** What is left after one round, and what each client was told. */
  async function outcome(
    deleted: number,
    created: number,
    parentPath: string,
    children: { collection: string; filter: object },
  ) {
    const parentLeft = (await t.http.get(parentPath)).status === 200;
    const childrenLeft = await t.mongo
      .db(t.databaseName)
      .collection(children.collection)
      .countDocuments(children.filter);
    return { deleted, created, parentLeft, childrenLeft };
  }

  /** The parent is gone only if its delete answered 204, the child exists only if its create answered 201, and never both. */
  const consistent = (o: { deleted: number; created: number; parentLeft: boolean; childrenLeft: number }) =>
    [204, 409].includes(o.deleted) &&
    [201, 404].includes(o.created) &&
    !(o.deleted === 204 && o.created === 201) &&
    o.parentLeft === (o.deleted === 409) &&
    o.childrenLeft === (o.created === 201 ? 1 : 0);

  it('a project and a logical cloud created in it', async () => {
    const outcomes = [];
    for (let i = 0; i < ROUNDS; i++) {
      const project = `race-${i}`;
      await createProject(t, project);
      const [deleted, created] = await Promise.all([
        t.http.delete(`/v2/projects/${project}`),
        // A namespace of its own each round: a logical cloud an earlier round kept holds its namespace.
        t.http
          .post(`/v2/projects/${project}/logical-clouds`)
          .send({ ...design.logicalCloud(), spec: { ...design.logicalCloud().spec, namespace: `ns-race-${i}` } }),
      ]);
      outcomes.push(
        await outcome(deleted.status, created.status, `/v2/projects/${project}`, {
          collection: 'logicalClouds',
          filter: { project },
        }),
      );
    }
    expect(outcomes.filter((o) => !consistent(o))).toEqual([]);
  });

  it('a cluster provider and a cluster registered under it', async () => {
    const kubeconfig = kubeconfigText(1);
    const outcomes = [];
    for (let i = 0; i < ROUNDS; i++) {
      const provider = `race-${i}`;
      await createProvider(t, provider);
      const [deleted, created] = await Promise.all([
        t.http.delete(`/v2/cluster-providers/${provider}`),
        t.http
          .post(`/v2/cluster-providers/${provider}/clusters`)
          .send({ metadata: { name: 'cluster-1' }, spec: { kubeconfig } }),
      ]);
      outcomes.push(
        await outcome(deleted.status, created.status, `/v2/cluster-providers/${provider}`, {
          collection: 'clusters',
          filter: { provider },
        }),
      );
    }
    expect(outcomes.filter((o) => !consistent(o))).toEqual([]);
  });
});
