import { describe, expect, it } from '@jest/globals';
import { allowedLabelPrefix, reservedLabelKeyReason } from '../../src/validation/reserved-labels.js';
import { ProjectPolicySchema, policyFromBody } from '../../src/features/project-policies/project-policy.schema.js';

describe('reserved label keys', () => {
  it.each([
    ['kubernetes.io/metadata.name', /reserved for Kubernetes/],
    ['pod-security.kubernetes.io/enforce', /reserved for Kubernetes/],
    ['k8s.io/anything', /reserved for Kubernetes/],
    ['node-role.k8s.io/x', /reserved for Kubernetes/],
    ['istio.io/rev', /reserved for Istio/],
    ['topology.istio.io/network', /reserved for Istio/],
    ['dcm.onap.org/logical-cloud', /reserved for the DCM/],
    ['app.kubernetes.io/managed-by', /set by the DCM/],
  ])('refuses %s', (key, reason) => {
    expect(reservedLabelKeyReason(key)).toMatch(reason);
  });

  it.each([
    'team',
    'example.com/team',
    'app.kubernetes.io/name',
    'app.kubernetes.io/part-of',
    'notkubernetes.io/x',
    'istio.io.example.com/x',
  ])('accepts %s', (key) => {
    expect(reservedLabelKeyReason(key)).toBeUndefined();
  });

  it('an allowed prefix lifts the refusal for keys under it only', () => {
    const allowed = ['pod-security.kubernetes.io/'];
    expect(reservedLabelKeyReason('pod-security.kubernetes.io/enforce', allowed)).toBeUndefined();
    expect(reservedLabelKeyReason('kubernetes.io/metadata.name', allowed)).toMatch(/Kubernetes/);
    expect(reservedLabelKeyReason('istio.io/rev', ['istio.io/'])).toBeUndefined();
    expect(reservedLabelKeyReason('app.kubernetes.io/managed-by', ['app.kubernetes.io/'])).toBeUndefined();
  });

  it("never lifts the DCM's own prefixes, and tells only there that the policy cannot help", () => {
    expect(reservedLabelKeyReason('dcm.onap.org/project', ['dcm.onap.org/'])).toMatch(/the DCM/);
    expect(reservedLabelKeyReason('dcm.onap.org/project')).not.toMatch(/allowedLabelPrefixes/);
    expect(reservedLabelKeyReason('k8s.io/x')).toMatch(/allowedLabelPrefixes/);
  });
});

describe('allowedLabelPrefixes in a project policy', () => {
  it('is a DNS subdomain followed by "/", never the DCM\'s own', () => {
    expect(allowedLabelPrefix.safeParse('pod-security.kubernetes.io/').success).toBe(true);
    expect(allowedLabelPrefix.safeParse('pod-security.kubernetes.io').success).toBe(false);
    expect(allowedLabelPrefix.safeParse('Bad_Prefix/').success).toBe(false);
    expect(allowedLabelPrefix.safeParse('dcm.onap.org/').success).toBe(false);
  });

  it('is bounded, defaults to none and drops duplicates', () => {
    const many = Array.from({ length: 21 }, (_, i) => `p${i}.example.com/`);
    expect(ProjectPolicySchema.safeParse({ allowedLabelPrefixes: many }).error?.issues[0]?.path).toEqual([
      'allowedLabelPrefixes',
    ]);
    expect(policyFromBody(ProjectPolicySchema.parse({})).allowedLabelPrefixes).toEqual([]);
    const body = ProjectPolicySchema.parse({ allowedLabelPrefixes: ['istio.io/', 'istio.io/'] });
    expect(policyFromBody(body).allowedLabelPrefixes).toEqual(['istio.io/']);
    expect(
      ProjectPolicySchema.safeParse({ allowedLabelPrefixes: ['x/', 'dcm.onap.org/'] }).error?.issues[0]?.path,
    ).toEqual(['allowedLabelPrefixes', 1]);
  });
});
