/**
 * Names and labels of the objects the DCM creates on clusters. They must be stable (a
 * re-apply after an upgrade has to find the objects it made before), distinct for distinct
 * DCM names, and valid for Kubernetes whatever the DCM name is.
 */
import { describe, expect, it } from '@jest/globals';
import {
  clusterObjectName,
  csrName,
  labelValue,
  managedLabels,
  managedSelector,
  namespacedObjectName,
  slug,
  type LogicalCloudIdentity,
} from '../../src/controllers/object-names.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

const isLabel = (s: string, max = 63) => s.length <= max && DNS1123_LABEL.test(s);
const isSubdomain = (s: string) => s.length <= 253 && DNS1123_SUBDOMAIN.test(s);

/** Valid DCM names (EMCO's rule) and user names (printable, up to 64 characters). */
const ODD_NAMES = [
  'A',
  'Permission_1',
  'perm.1',
  'x'.repeat(128),
  `${'a'.repeat(55)}-${'b'.repeat(72)}`,
  `${'A'.repeat(60)}_z`,
  'José Ñúñez',
  'ユーザー',
  'ü',
  'user@example.com',
];

describe('slug', () => {
  it('leaves a name that already is a DNS-1123 label unchanged', () => {
    for (const name of ['permission-1', 'quota-1', 'a', 'x1', 'a'.repeat(63)]) expect(slug(name)).toBe(name);
  });

  it('is stable: the names of existing objects never change (pinned values)', () => {
    expect(slug('Permission_1')).toBe('permission-1-173cdc');
    expect(slug('a'.repeat(64))).toBe(`${'a'.repeat(56)}-ffe054`);
    expect(slug('Permission_1')).toBe(slug('Permission_1'));
  });

  it('adds a hash of the original whenever it had to change it, so distinct names never collide', () => {
    const names = ['perm-1', 'Perm-1', 'PERM-1', 'perm_1', 'perm.1', 'Perm_1', 'perm--1'];
    const slugs = names.map((n) => slug(n));
    expect(new Set(slugs).size).toBe(names.length);
    for (const s of slugs.slice(1)) expect(s).toMatch(/^perm-1-[0-9a-f]{6}$/);
  });

  it('keeps to the length limit, and long names differing only at the end stay distinct', () => {
    const a = `${'n'.repeat(100)}-a`;
    const b = `${'n'.repeat(100)}-b`;
    for (const max of [63, 60, 20]) {
      expect(slug(a, max).length).toBeLessThanOrEqual(max);
      expect(slug(a, max)).not.toBe(slug(b, max));
    }
    expect(slug('n'.repeat(240), 240)).toBe('n'.repeat(240));
  });

  it('is a DNS-1123 label for any name, even one without a single ASCII letter', () => {
    expect(ODD_NAMES.map((name) => slug(name)).filter((s) => !isLabel(s))).toEqual([]);
    expect(slug('ユーザー')).not.toBe(slug('ユーザ'));
  });
});

describe('labelValue', () => {
  it('keeps names of up to 63 characters as they are (label values allow upper case, _ and .)', () => {
    for (const name of ['lc-1', 'Project_1', 'p.1', 'p'.repeat(63)]) expect(labelValue(name)).toBe(name);
  });

  it('shortens longer names to a valid value, distinct for names sharing a long prefix', () => {
    const a = `${'p'.repeat(60)}-a`.padEnd(128, 'x');
    const b = `${'p'.repeat(60)}-b`.padEnd(128, 'x');
    for (const name of [a, b, `${'p'.repeat(55)}.${'q'.repeat(72)}`]) {
      expect(labelValue(name).length).toBeLessThanOrEqual(63);
      expect(labelValue(name)).toMatch(LABEL_VALUE);
    }
    expect(labelValue(a)).not.toBe(labelValue(b));
    expect(labelValue('p'.repeat(100))).toBe(`${'p'.repeat(56)}-abd3b1`);
  });
});

describe('object names', () => {
  const id = (logicalCloud: string, logicalCloudId = '0123456789abcdef01234567'): LogicalCloudIdentity => ({
    project: 'project-1',
    logicalCloud,
    logicalCloudId,
  });

  it('names namespaced objects after the permission or quota (the names the design flow relies on)', () => {
    expect(namespacedObjectName('permission', 'permission-1')).toBe('dcm-permission-1');
    expect(namespacedObjectName('quota', 'quota-1')).toBe('dcm-quota-quota-1');
    // A permission and a quota of the same name do not collide.
    expect(namespacedObjectName('permission', 'x')).not.toBe(namespacedObjectName('quota', 'x'));
  });

  it('keeps every name a valid DNS subdomain within its limit, for the longest DCM names', () => {
    const longest = 'X'.repeat(128);
    for (const name of [namespacedObjectName('permission', longest), namespacedObjectName('quota', longest)])
      expect(isSubdomain(name)).toBe(true);
    const users = ODD_NAMES.map((n) => n.slice(0, 64));
    const names = ODD_NAMES.flatMap((lc) => [
      clusterObjectName(id(lc), longest),
      ...users.map((user) => csrName(id(lc), user)),
    ]);
    expect(names.filter((name) => !isSubdomain(name))).toEqual([]);
  });

  it("puts the logical cloud and its id in cluster-scoped names: two logical clouds' objects never collide", () => {
    expect(clusterObjectName(id('lc-1'), 'permission-1')).toBe('dcm-lc-1-01234567-permission-1');
    expect(clusterObjectName(id('lc-1'), 'permission-1')).not.toBe(
      clusterObjectName(id('lc-1', 'fedcba9876543210fedcba98'), 'permission-1'),
    );
    expect(clusterObjectName(id('lc-1'), 'permission-1')).not.toBe(clusterObjectName(id('lc-1'), 'permission-2'));
    expect(csrName(id('lc-1'), 'user-1')).not.toBe(csrName(id('lc-2'), 'user-1'));
  });

  it('labels every object with valid label values, and selects by the id alone', () => {
    const labels = managedLabels({
      project: 'P'.repeat(128),
      logicalCloud: 'lc_1',
      logicalCloudId: '0123456789abcdef01234567',
    });
    expect(labels).toEqual({
      'app.kubernetes.io/managed-by': 'dcm',
      'dcm.onap.org/project': labelValue('P'.repeat(128)),
      'dcm.onap.org/logical-cloud': 'lc_1',
      'dcm.onap.org/logical-cloud-id': '0123456789abcdef01234567',
    });
    for (const value of Object.values(labels)) expect(value).toMatch(LABEL_VALUE);
    expect(managedSelector(id('lc-1'))).toBe(
      'app.kubernetes.io/managed-by=dcm,dcm.onap.org/logical-cloud-id=0123456789abcdef01234567',
    );
  });
});
