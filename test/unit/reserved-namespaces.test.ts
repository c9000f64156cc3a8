/**
 * Reserved namespaces (issue 29 item 6): the namespaces of common cluster add-ons are no
 * tenant's by default, DCM_RESERVED_NAMESPACES replaces that list (names and `prefix*`
 * patterns, validated at start-up), and Kubernetes' own and the DCM's control planes stay
 * reserved whatever it says.
 */
import { describe, expect, it } from '@jest/globals';
import { ConfigError, defaultConfig, loadConfig } from '../../src/config.js';
import {
  CONFIGURED_OWNER,
  DEFAULT_RESERVED_NAMESPACES,
  MAX_RESERVED_NAMESPACES,
  parseReservedNamespaces,
  reservedNamespaceOwner,
} from '../../src/domain/tenant-identity.js';

describe('the default reserved namespaces', () => {
  it.each([
    ['cert-manager', 'cert-manager'],
    ['argocd', 'Argo CD'],
    ['flux-system', 'Flux'],
    ['sail-operator', 'the Sail Operator'],
    ['istio-system', 'Istio (its default control plane)'],
    ['istio-ingress', 'Istio'],
    ['istio-gateways', 'Istio'],
    ['monitoring', "the cluster's monitoring"],
    ['gatekeeper-system', 'OPA Gatekeeper'],
    ['kyverno', 'Kyverno'],
    ['default', 'Kubernetes'],
    ['kube-system', 'Kubernetes'],
    ['kube-node-lease', 'Kubernetes'],
    ['istio-dcm-0f1e2d3c', "the DCM's service-mesh control planes"],
  ])('%s belongs to %s', (namespace, owner) => {
    expect(reservedNamespaceOwner(namespace, DEFAULT_RESERVED_NAMESPACES)).toBe(owner);
  });

  it.each(['ns-1', 'cert-manager-2', 'argocd-apps', 'my-monitoring', 'istio', 'kyverno-x', 'kube', 'defaults'])(
    '%s is free to claim',
    (namespace) => {
      expect(reservedNamespaceOwner(namespace, DEFAULT_RESERVED_NAMESPACES)).toBeUndefined();
    },
  );

  it('are what the configuration holds without DCM_RESERVED_NAMESPACES', () => {
    expect(defaultConfig().DCM_RESERVED_NAMESPACES).toEqual([...DEFAULT_RESERVED_NAMESPACES]);
    expect(loadConfig({}).DCM_RESERVED_NAMESPACES).toEqual([...DEFAULT_RESERVED_NAMESPACES]);
    expect(DEFAULT_RESERVED_NAMESPACES).toEqual(
      expect.arrayContaining([
        'cert-manager',
        'argocd',
        'flux-system',
        'sail-operator',
        'istio-*',
        'istio-system',
        'monitoring',
        'gatekeeper-system',
        'kyverno',
      ]),
    );
  });
});

describe('a configured list', () => {
  const configured = (value: string) => loadConfig({ DCM_RESERVED_NAMESPACES: value }).DCM_RESERVED_NAMESPACES;

  it('replaces the defaults: names and prefix* patterns, blanks around entries ignored', () => {
    const list = configured(' team-infra , vault ,ops-* ');
    expect(list).toEqual(['team-infra', 'vault', 'ops-*']);
    expect(reservedNamespaceOwner('vault', list)).toBe(CONFIGURED_OWNER);
    expect(reservedNamespaceOwner('ops-logging', list)).toBe(CONFIGURED_OWNER);
    expect(reservedNamespaceOwner('team-infra', list)).toBe(CONFIGURED_OWNER);
    expect(reservedNamespaceOwner('cert-manager', list)).toBeUndefined();
    expect(reservedNamespaceOwner('istio-system', list)).toBeUndefined();
  });

  it('names a known add-on when it lists one', () => {
    const list = configured('argocd,istio-*');
    expect(reservedNamespaceOwner('argocd', list)).toBe('Argo CD');
    expect(reservedNamespaceOwner('istio-system', list)).toBe('Istio');
  });

  it('prefers a name to a pattern and a longer pattern to a shorter one', () => {
    const list = configured('istio-*,istio-system,team-*,team-a-*');
    expect(reservedNamespaceOwner('istio-system', list)).toBe('Istio (its default control plane)');
    expect(reservedNamespaceOwner('istio-x', list)).toBe('Istio');
    expect(reservedNamespaceOwner('team-a-1', list)).toBe(CONFIGURED_OWNER);
  });

  it("cannot free Kubernetes' own namespaces or the DCM's control planes", () => {
    const list = configured('');
    expect(list).toEqual([]);
    expect(reservedNamespaceOwner('default', list)).toBe('Kubernetes');
    expect(reservedNamespaceOwner('kube-system', list)).toBe('Kubernetes');
    expect(reservedNamespaceOwner('istio-dcm-1', list)).toBe("the DCM's service-mesh control planes");
    expect(reservedNamespaceOwner('cert-manager', list)).toBeUndefined();
  });

  it('drops duplicates', () => {
    expect(configured('a,b,a')).toEqual(['a', 'b']);
  });

  it.each([
    ['Cert-Manager', 'upper case'],
    ['a,,b', 'an empty entry'],
    ['a,', 'a trailing comma'],
    ['*', 'a bare *'],
    ['-x', 'a leading -'],
    ['x-', 'a trailing - (as a name)'],
    ['a*b', '* inside'],
    ['a.b', 'a dot'],
    ['x'.repeat(64), 'a name of 64'],
    [`${'x'.repeat(63)}*`, 'a prefix of 63 (nothing more fits)'],
    ['team_a', 'an underscore'],
  ])('refuses %j (%s) at start-up, naming the variable', (value) => {
    expect(() => loadConfig({ DCM_RESERVED_NAMESPACES: value })).toThrow(ConfigError);
    expect(() => loadConfig({ DCM_RESERVED_NAMESPACES: value })).toThrow(/DCM_RESERVED_NAMESPACES: .*DNS-1123 label/);
  });

  it('accepts the longest name and prefix', () => {
    expect(configured(`${'x'.repeat(63)},${'y'.repeat(62)}*`)).toHaveLength(2);
  });

  it(`is at most ${MAX_RESERVED_NAMESPACES} entries`, () => {
    const entries = (n: number) => Array.from({ length: n }, (_, i) => `ns-${i}`).join(',');
    expect(configured(entries(MAX_RESERVED_NAMESPACES))).toHaveLength(MAX_RESERVED_NAMESPACES);
    expect(() => loadConfig({ DCM_RESERVED_NAMESPACES: entries(MAX_RESERVED_NAMESPACES + 1) })).toThrow(
      `DCM_RESERVED_NAMESPACES: at most ${MAX_RESERVED_NAMESPACES} entries`,
    );
  });

  it('parses to what is wrong, naming at most five entries', () => {
    const parsed = parseReservedNamespaces('A,B,C,D,E,F,G,ok');
    expect(parsed).toEqual({ problem: expect.stringContaining('"A", "B", "C", "D", "E" and 2 more:') });
  });
});
