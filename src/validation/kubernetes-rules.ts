/**
 * Validation building blocks for the rules Kubernetes and EMCO put on names, RBAC rules,
 * quantities and ResourceQuota keys. Pure: zod schemas and plain functions, no I/O.
 *
 * Checking these when a record is created means a bad value is reported to the caller
 * at once, naming the field, instead of failing later when the logical cloud is
 * instantiated on a cluster.
 */
import { z } from 'zod';
import { atMost, boundedRecord, boundedString, LIMITS } from './limits.js';

// ---------------------------------------------------------------------------
// DCM record metadata (EMCO's rules)
// ---------------------------------------------------------------------------

/** EMCO's name rule: alphanumeric ends, `-`, `_`, `.` inside, 1..128 characters. */
const RESOURCE_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const RESOURCE_NAME_RULE =
  'must be 1-128 characters of letters, digits, "-", "_" or ".", starting and ending with a letter or digit';

/** The name of a DCM record (project, logical cloud, user permission, quota...). */
export const resourceName = z
  .string({ error: `name is required and ${RESOURCE_NAME_RULE}` })
  .min(1, { error: `name is required and ${RESOURCE_NAME_RULE}` })
  .max(LIMITS.nameLength, { error: `name ${RESOURCE_NAME_RULE}`, abort: true })
  .regex(RESOURCE_NAME, { error: `name ${RESOURCE_NAME_RULE}` });

/** Free text describing a record; EMCO caps it at 1024 characters. */
export const description = z
  .string()
  .max(LIMITS.descriptionLength, { error: `description must be ${atMost(LIMITS.descriptionLength, 'characters')}` })
  .optional();

/** EMCO's opaque userData1/userData2 fields; capped at 512 characters. */
export const userData = z
  .string()
  .max(LIMITS.userDataLength, { error: `user data must be ${atMost(LIMITS.userDataLength, 'characters')}` })
  .optional();

// ---------------------------------------------------------------------------
// Kubernetes names
// ---------------------------------------------------------------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/*
 * The same rules as JSON Schema patterns, for the OpenAPI document (attached with `.meta()`
 * where a refine enforces them). Written in the syntax ECMA-262 and Python's `re` share
 * (no \p{…}, no lookbehind), since clients and test generators read them with either.
 */
const LABEL_63 = '[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?';
const SUBDOMAIN = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*';
const NAME_63 = '[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
/** A prefixed key: `<subdomain of at most 253>/<name>`. */
const PREFIXED = `(?:(?=[^/]{1,253}/)${SUBDOMAIN}/)?`;
export const PATTERNS = {
  dns1123Label: `^${LABEL_63}$`,
  dns1123Subdomain: `^${SUBDOMAIN}$`,
  labelKey: `^${PREFIXED}${NAME_63}$`,
  labelValue: `^(?:${NAME_63})?$`,
  labelName: `^${NAME_63}$`,
} as const;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

/** A DNS-1123 label, which is what Kubernetes requires of a namespace name. */
export const dns1123Label = z
  .string()
  .refine(isDns1123Label, {
    error:
      'must be a DNS-1123 label: at most 63 lowercase letters, digits or "-", ' +
      'starting and ending with a letter or digit',
  })
  .meta({ pattern: PATTERNS.dns1123Label, maxLength: 63 });

/** A DNS-1123 subdomain (dot-separated DNS-1123 labels, at most 253 characters), e.g. an API group. */
export const dns1123Subdomain = z
  .string()
  .refine(isDns1123Subdomain, {
    error:
      'must be a DNS-1123 subdomain: at most 253 characters of dot-separated lowercase labels ' +
      '(letters, digits, "-")',
  })
  .meta({ pattern: PATTERNS.dns1123Subdomain, maxLength: 253 });

/**
 * Longest user name accepted. The name becomes the CN of the user's client certificate,
 * and RFC 5280 caps a CN at 64 characters (ub-common-name); OpenSSL-based tooling
 * refuses longer ones even though Kubernetes itself would not.
 */
export const KUBERNETES_USER_NAME_MAX_LENGTH = 64;

/**
 * Characters that are special in the string forms of an X.509 distinguished name:
 * `,` `+` `=` `"` `\` `<` `>` `;` in RFC 4514 (`CN=a,O=b`), and `/` in OpenSSL's
 * one-line form (`/CN=a/O=b`). A CN containing one would be read back as a different
 * name or as extra attributes (a user named `x,O=system:masters` must never become a
 * member of that group), so they are refused rather than escaped.
 */
const DN_SPECIAL_CHARACTERS = /[/,=+"\\<>;]/;
/** Control, format (invisible), surrogate, private-use and line/paragraph separator characters. */
const UNPRINTABLE_CHARACTERS = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}]/u;

/**
 * Blocks of the Basic Multilingual Plane the document's user-name pattern draws from: ASCII, Latin-1
 * to Cyrillic, kana, CJK ideographs and Hangul. The DCM accepts every printable character; the
 * pattern is a compact subset of that (a test generator reads it; a Unicode-wide class is too large
 * for some regex engines and was dropped), so what it describes is always accepted.
 */
const USER_NAME_BLOCKS: [number, number][] = [
  [0x20, 0x7e],
  [0xa0, 0x52f],
  [0x3040, 0x30ff],
  [0x4e00, 0x9fff],
  [0xac00, 0xd7a3],
];

/** The printable characters of USER_NAME_BLOCKS less those in `exclude`, as a character-class body of `\\uXXXX` ranges. */
function userNameClass(exclude: RegExp): string {
  const ranges: [number, number][] = [];
  for (const [from, to] of USER_NAME_BLOCKS) {
    let start = -1;
    for (let cp = from; cp <= to + 1; cp++) {
      const c = String.fromCharCode(cp);
      const hit = cp <= to && !UNPRINTABLE_CHARACTERS.test(c) && !exclude.test(c);
      if (hit && start < 0) start = cp;
      if (!hit && start >= 0) {
        ranges.push([start, cp - 1]);
        start = -1;
      }
    }
  }
  const char = (cp: number) => `\\u${cp.toString(16).padStart(4, '0')}`;
  return `[${ranges.map(([a, b]) => (a === b ? char(a) : `${char(a)}-${char(b)}`)).join('')}]`;
}

/**
 * kubernetesUserName's refines as one pattern (its length is checked apart), without lookarounds:
 * no DN special character, no whitespace at either end, no `#` first, and not `system:…` (a proper
 * prefix of "system:", or a name that parts from it at its first to seventh character).
 */
function userNamePattern(): string {
  const special = '/,=+"\\\\<>;';
  const inside = userNameClass(new RegExp(`[${special}]`, 'u'));
  const rest = (not: string) => {
    const edge = userNameClass(new RegExp(`[${special}\\s${not}]`, 'u'));
    const middle = userNameClass(new RegExp(`[${special}${not}]`, 'u'));
    const last = userNameClass(new RegExp(`[${special}\\s]`, 'u'));
    return `(?:${edge}|${middle}${inside}*${last})`;
  };
  const reserved = 'system:';
  const alternatives = [...reserved].map((ch, i) => (i === 0 ? rest(`#\\s${ch}`) : `${reserved.slice(0, i)}${rest(ch)}`));
  for (let i = 1; i < reserved.length; i++) alternatives.push(reserved.slice(0, i));
  return `^(?:${alternatives.join('|')})$`;
}

/**
 * A Kubernetes user name as it appears in a client certificate's CN and in RBAC
 * subjects. Kubernetes reserves the `system:` prefix for its own components.
 */
export const kubernetesUserName = z
  .string({ error: 'user name is required' })
  .min(1, { error: 'user name is required' })
  .max(KUBERNETES_USER_NAME_MAX_LENGTH, {
    error: `user name must be at most ${KUBERNETES_USER_NAME_MAX_LENGTH} characters (the X.509 limit for a common name)`,
  })
  .refine((s) => !/^\s|\s$/u.test(s), { error: 'user name must not start or end with whitespace' })
  .refine((s) => !UNPRINTABLE_CHARACTERS.test(s), { error: 'user name must contain only printable characters' })
  .refine((s) => !s.startsWith('system:'), {
    error: 'user name must not start with "system:" (reserved for Kubernetes components)',
  })
  .refine((s) => !DN_SPECIAL_CHARACTERS.test(s), {
    error: 'user name must not contain any of / , = + " \\ < > ; (they are special in certificate subject names)',
  })
  .refine((s) => !s.startsWith('#'), {
    error: 'user name must not start with "#" (special in certificate subject names)',
  })
  .meta({ pattern: userNamePattern() });

// ---------------------------------------------------------------------------
// RBAC rules
// ---------------------------------------------------------------------------

/** Verbs an RBAC rule may grant: the API verbs, the special RBAC/CSR verbs, and `*`. */
export const KUBERNETES_VERBS = [
  'get',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
  'use',
  'bind',
  'escalate',
  'impersonate',
  'approve',
  'sign',
  '*',
] as const;

export type KubernetesVerb = (typeof KUBERNETES_VERBS)[number];

/** One verb of an RBAC rule. */
export const verb = z.enum(KUBERNETES_VERBS, {
  error: `verb must be one of ${KUBERNETES_VERBS.join(', ')}`,
});

/** An API group of an RBAC rule: `""` is the core group, `*` all groups. */
export const apiGroup = boundedString(LIMITS.apiGroupLength)
  .refine((s) => s === '' || s === '*' || isDns1123Subdomain(s), {
    error: 'API group must be "" (the core group), "*" or a DNS-1123 subdomain such as "apps" or "example.com"',
  })
  .meta({ pattern: `^(?:|\\*|${SUBDOMAIN})$`, maxLength: LIMITS.apiGroupLength });

/**
 * A resource of an RBAC rule: `*`, a lowercase plural resource (`pods`), or a resource
 * with a subresource (`pods/log`, or `*\/scale` for that subresource of any resource).
 * Dots are refused: the group goes in apiGroups, and `deployments.apps` would match nothing.
 */
const RBAC_RESOURCE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?|\*)(\/[a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/;

export const rbacResource = boundedString(LIMITS.resourceLength)
  .refine((s) => RBAC_RESOURCE.test(s) && s.split('/').every((part) => part.length <= 63), {
    error: 'resource must be "*", a lowercase resource such as "pods", or resource/subresource such as "pods/log"',
  })
  .meta({ pattern: `^(?:${LABEL_63}|\\*)(?:/${LABEL_63})?$`, maxLength: LIMITS.resourceLength });

// ---------------------------------------------------------------------------
// Quantities (Kubernetes resource.Quantity)
// ---------------------------------------------------------------------------

/**
 * `<sign>?<number><suffix>`: number is digits with at most one decimal point (`1`, `1.5`,
 * `.5`, `1.`); suffix is binary SI, decimal SI (including none) or `e`/`E` + integer.
 * `E` alone is the exa suffix; `E3` is an exponent.
 */
const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|[eE]([+-]?\d+)|([numkMGTPE]?))$/;

const BINARY_SI_POWER: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_SI_EXPONENT: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

/**
 * The value of a Kubernetes quantity as a (possibly approximate) number, or undefined
 * when `s` is not a quantity or its value does not fit in a double.
 */
export function parseQuantity(s: string): number | undefined {
  const match = QUANTITY.exec(s);
  if (!match) return undefined;
  const [, sign = '', digits = '', binarySuffix, exponent, decimalSuffix] = match;
  let value: number;
  if (binarySuffix !== undefined) {
    value = Number(sign + digits) * 2 ** (BINARY_SI_POWER[binarySuffix] ?? 0);
  } else {
    // Let Number() apply the decimal exponent, so "1.1k" is exactly 1100, not 1100.0000000000002.
    const power = exponent ?? String(DECIMAL_SI_EXPONENT[decimalSuffix ?? ''] ?? 0);
    value = Number(`${sign}${digits}e${power}`);
  }
  return Number.isFinite(value) ? value : undefined;
}

/** Whether `s` follows the Kubernetes quantity grammar (e.g. `1`, `500m`, `1.5Gi`, `1e3`). */
export function isQuantity(s: string): boolean {
  return parseQuantity(s) !== undefined;
}

/** A quantity that may be used as a limit: well-formed and not negative. */
export const nonNegativeQuantity = z.string().superRefine((s, ctx) => {
  const value = parseQuantity(s);
  if (value === undefined) {
    ctx.addIssue({ code: 'custom', message: notAQuantity(s) });
  } else if (value < 0) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} must not be negative` });
  }
});

function notAQuantity(s: string): string {
  return `${JSON.stringify(s)} is not a Kubernetes quantity (examples: "2", "500m", "1.5", "4Gi", "1e3")`;
}

// ---------------------------------------------------------------------------
// ResourceQuota keys
// ---------------------------------------------------------------------------

/** Short keys that Kubernetes reads as requests (`cpu` is `requests.cpu`). */
const SHORT_QUOTA_KEYS: Record<string, string> = {
  cpu: 'requests.cpu',
  memory: 'requests.memory',
  'ephemeral-storage': 'requests.ephemeral-storage',
};

/** Keys counting objects: their limits must be whole numbers. */
const STANDARD_COUNT_KEYS = new Set([
  'pods',
  'services',
  'services.loadbalancers',
  'services.nodeports',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'replicationcontrollers',
  'resourcequotas',
]);

const STANDARD_AMOUNT_KEYS = new Set([
  'requests.cpu',
  'requests.memory',
  'limits.cpu',
  'limits.memory',
  'requests.storage',
  'requests.ephemeral-storage',
  'limits.ephemeral-storage',
]);

const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/';
const STORAGE_CLASS_AMOUNT = 'requests.storage';
const STORAGE_CLASS_COUNT = 'persistentvolumeclaims';

/** Name part of a qualified name (as in `nvidia.com/gpu`). */
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/**
 * Maps the short keys `cpu`, `memory` and `ephemeral-storage` to their `requests.` form,
 * as Kubernetes does; every other key is returned unchanged (valid or not).
 */
export function normalizeQuotaKey(key: string): string {
  return Object.hasOwn(SHORT_QUOTA_KEYS, key) ? SHORT_QUOTA_KEYS[key]! : key;
}

type QuotaKeyKind = 'amount' | 'count';

/** Whether a (normalized) key is an amount or an object count; undefined if not a quota key. */
function quotaKeyKind(key: string): QuotaKeyKind | undefined {
  if (STANDARD_AMOUNT_KEYS.has(key)) return 'amount';
  if (STANDARD_COUNT_KEYS.has(key)) return 'count';
  if (key.startsWith('count/')) {
    // count/<resource> (core group) or count/<resource>.<group>: both read as a subdomain, and
    // the API server checks the key as a qualified name, whose name part has at most 63 characters.
    const resource = key.slice('count/'.length);
    return resource.length <= 63 && isDns1123Subdomain(resource) ? 'count' : undefined;
  }
  const storageClassAt = key.indexOf(STORAGE_CLASS_SUFFIX);
  if (storageClassAt > 0) {
    const storageClass = key.slice(0, storageClassAt);
    const resource = key.slice(storageClassAt + STORAGE_CLASS_SUFFIX.length);
    // The whole prefix `<class>.storageclass.storage.k8s.io` is the qualified name's prefix: a subdomain of at most 253.
    if (!isDns1123Subdomain(storageClass) || !isDns1123Subdomain(key.slice(0, storageClassAt + STORAGE_CLASS_SUFFIX.length - 1))) return undefined;
    if (resource === STORAGE_CLASS_AMOUNT) return 'amount';
    if (resource === STORAGE_CLASS_COUNT) return 'count';
    return undefined;
  }
  const hugePages = /^(requests|limits)\.hugepages-(.+)$/.exec(key);
  if (hugePages) {
    const pageSize = parseQuantity(hugePages[2] ?? '');
    return pageSize !== undefined && pageSize > 0 && !/^[+-]/.test(hugePages[2] ?? '') ? 'amount' : undefined;
  }
  if (key.startsWith('requests.')) {
    return isExtendedResourceName(key.slice('requests.'.length)) ? 'amount' : undefined;
  }
  return undefined;
}

/**
 * A domain-prefixed resource name such as `nvidia.com/gpu`. Names in the kubernetes.io
 * domains are native resources, not extended ones, so they are refused here.
 */
function isExtendedResourceName(name: string): boolean {
  const slash = name.indexOf('/');
  if (slash < 0) return false;
  const domain = name.slice(0, slash);
  const resource = name.slice(slash + 1);
  if (domain === 'kubernetes.io' || domain.endsWith('.kubernetes.io')) return false;
  return isDns1123Subdomain(domain) && resource.length <= 63 && QUALIFIED_NAME_PART.test(resource);
}

/** Whether `key` is a ResourceQuota key (short keys like `cpu` included). */
export function isQuotaKey(key: string): boolean {
  return quotaKeyKind(normalizeQuotaKey(key)) !== undefined;
}

const QUOTA_KEY_RULE =
  'is not a ResourceQuota key (examples: "cpu", "requests.memory", "limits.cpu", "pods", ' +
  '"requests.nvidia.com/gpu", "count/deployments.apps", "<class>.storageclass.storage.k8s.io/requests.storage")';

/** One ResourceQuota key; validates only, see normalizeQuotaKey for the canonical form. */
export const quotaKey = z.string().refine(isQuotaKey, {
  error: (issue) => `${JSON.stringify(issue.input)} ${QUOTA_KEY_RULE}`,
});

/*
 * The quota grammar as patterns (the OpenAPI document's patternProperties). Amount keys take a
 * non-negative quantity; count keys a whole one (written without a fraction or a milli suffix:
 * the document leaves out the rare whole numbers spelt "1.5k" or "2000m", which the DCM accepts).
 * Beyond the patterns the DCM refuses a value that overflows (1e400) and two keys limiting the
 * same thing (cpu and requests.cpu).
 */
const QUANTITY_SUFFIX = '(?:Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+|[numkMGTPE])?';
const NON_NEGATIVE_QUANTITY = `^(?:\\+?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)|-(?:0+\\.?0*|\\.0+))${QUANTITY_SUFFIX}$`;
const WHOLE_QUANTITY = `^(?:\\+?[0-9]+(?:\\.0*)?(?:Ki|Mi|Gi|Ti|Pi|Ei|[eE]\\+?[0-9]+|[kMGTPE])?|-0+(?:\\.0*)?)$`;
const STORAGE_CLASS_KEY = `(?=[^/]{1,253}/)${SUBDOMAIN}\\.storageclass\\.storage\\.k8s\\.io/`;
const QUOTA_COUNT_KEY = [
  'pods|services|services\\.loadbalancers|services\\.nodeports|secrets|configmaps|persistentvolumeclaims|replicationcontrollers|resourcequotas',
  `count/(?=[^/]{1,63}$)${SUBDOMAIN}`,
  `${STORAGE_CLASS_KEY}persistentvolumeclaims`,
].join('|');
const POSITIVE_UNSIGNED_QUANTITY = `(?=[.0-9]*[1-9])(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)${QUANTITY_SUFFIX}`;
const QUOTA_AMOUNT_KEY = [
  'cpu|memory|ephemeral-storage|requests\\.cpu|requests\\.memory|limits\\.cpu|limits\\.memory|requests\\.storage|requests\\.ephemeral-storage|limits\\.ephemeral-storage',
  `${STORAGE_CLASS_KEY}requests\\.storage`,
  `(?:requests|limits)\\.hugepages-${POSITIVE_UNSIGNED_QUANTITY}`,
  `requests\\.(?!hugepages-)(?![^/]*\\.storageclass\\.storage\\.k8s\\.io/)(?!(?:[^/]*\\.)?kubernetes\\.io/)(?=[^/]{1,253}/)${SUBDOMAIN}/${NAME_63}`,
].join('|');
export const QUOTA_PATTERNS = {
  countKey: `^(?:${QUOTA_COUNT_KEY})$`,
  amountKey: `^(?:${QUOTA_AMOUNT_KEY})$`,
  amount: NON_NEGATIVE_QUANTITY,
  whole: WHOLE_QUANTITY,
} as const;

/**
 * The hard limits of a quota: quota key -> non-negative quantity, at least one entry.
 * Each issue's path is the offending key, so callers report e.g.
 * `spec.memory: "lots" is not a Kubernetes quantity`. Keys are kept as given. Bounded (LIMITS):
 * at most 64 keys of at most 317 characters, each value at most 64 characters.
 */
export const quotaSpec = boundedRecord(
  z
    .string({ error: 'quota limits must be strings such as "4Gi" or "10"' })
    .max(LIMITS.quotaValueLength, { error: `a quota limit is ${atMost(LIMITS.quotaValueLength, 'characters')}`, abort: true }),
  LIMITS.quotaKeys,
  'quota keys',
  LIMITS.quotaKeyLength,
).superRefine((spec, ctx) => {
  const keys = Object.keys(spec);
  if (keys.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'quota must set at least one limit' });
    return;
  }
  const seen = new Map<string, string>(); // normalized key -> key as given
  for (const key of keys) {
    const normalized = normalizeQuotaKey(key);
    const kind = quotaKeyKind(normalized);
    if (kind === undefined) {
      ctx.addIssue({ code: 'custom', path: [key], message: `${JSON.stringify(key)} ${QUOTA_KEY_RULE}` });
      continue;
    }
    const earlier = seen.get(normalized);
    if (earlier !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `"${key}" and "${earlier}" both limit ${normalized}; set only one of them`,
      });
    } else {
      seen.set(normalized, key);
    }

    const quantity = spec[key] ?? '';
    const value = parseQuantity(quantity);
    if (value === undefined) {
      ctx.addIssue({ code: 'custom', path: [key], message: notAQuantity(quantity) });
    } else if (value < 0) {
      ctx.addIssue({ code: 'custom', path: [key], message: `${JSON.stringify(quantity)} must not be negative` });
    } else if (kind === 'count' && !Number.isInteger(value)) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `${JSON.stringify(quantity)} must be a whole number (${key} counts objects)`,
      });
    }
  }
}).meta({
  minProperties: 1,
  maxProperties: LIMITS.quotaKeys,
  propertyNames: { type: 'string', maxLength: LIMITS.quotaKeyLength },
  patternProperties: {
    [QUOTA_PATTERNS.countKey]: { type: 'string', maxLength: LIMITS.quotaValueLength, pattern: QUOTA_PATTERNS.whole },
    [QUOTA_PATTERNS.amountKey]: { type: 'string', maxLength: LIMITS.quotaValueLength, pattern: QUOTA_PATTERNS.amount },
  },
  additionalProperties: false,
  description: 'ResourceQuota hard limits: quota key → quantity. Two keys limiting the same resource (cpu and requests.cpu) are refused.',
});

// ---------------------------------------------------------------------------
// Labels (Namespace labels of a logical cloud)
// ---------------------------------------------------------------------------

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** `[prefix/]name`: prefix a DNS-1123 subdomain, name ≤63 alphanumerics with `-_.` inside. */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) return false;
  return name.length <= 63 && LABEL_NAME.test(name);
}

export const isLabelValue = (value: string): boolean => value === '' || (value.length <= 63 && LABEL_NAME.test(value));

export const labelMap = boundedRecord(
  z.string().max(LIMITS.labelValueLength, { error: `a label value is ${atMost(LIMITS.labelValueLength, 'characters')}`, abort: true }),
  LIMITS.labels,
  'labels',
  LIMITS.labelKeyLength,
).superRefine((labels, ctx) => {
  for (const [key, value] of Object.entries(labels)) {
    if (!isLabelKey(key)) {
      ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" is not a valid label key ([prefix/]name, name ≤63 of A-Z a-z 0-9 - _ .)` });
    } else if (!isLabelValue(value)) {
      ctx.addIssue({ code: 'custom', path: [key], message: `"${value}" is not a valid label value (≤63 of A-Z a-z 0-9 - _ ., starting and ending alphanumeric)` });
    }
  }
}).meta({
  maxProperties: LIMITS.labels,
  propertyNames: { type: 'string', maxLength: LIMITS.labelKeyLength, pattern: PATTERNS.labelKey },
  additionalProperties: { type: 'string', maxLength: LIMITS.labelValueLength, pattern: PATTERNS.labelValue },
});

/**
 * Label prefixes only Kubernetes, Istio or the DCM itself may set on a tenant's Namespace: the
 * DCM writes a logical cloud's labels with admin credentials, so `pod-security.kubernetes.io/enforce`
 * or `istio.io/rev` there would change what the cluster enforces or which mesh injects the tenant.
 * `app.kubernetes.io/` is the recommended labels' prefix (any tenant may use it) except `managed-by`.
 */
const RESERVED_LABEL_DOMAINS: { domain: string; owner: string }[] = [
  { domain: 'kubernetes.io', owner: 'Kubernetes' },
  { domain: 'k8s.io', owner: 'Kubernetes' },
  { domain: 'istio.io', owner: 'Istio' },
  { domain: 'dcm.onap.org', owner: 'the DCM' },
];
const RECOMMENDED_LABEL_PREFIX = 'app.kubernetes.io';
const RESERVED_LABEL_KEYS: Record<string, string> = { 'app.kubernetes.io/managed-by': 'the DCM (it manages the Namespace)' };

const underDomain = (prefix: string, domain: string): boolean => prefix === domain || prefix.endsWith(`.${domain}`);

/**
 * Why a logical cloud may not carry label `key` on its Namespace, or undefined when it may.
 * `allowedPrefixes` (`<dns subdomain>/`, from the project's policy) lift the refusal for keys
 * starting with them, except under the DCM's own prefixes.
 */
export function reservedLabelKeyReason(key: string, allowedPrefixes: readonly string[] = []): string | undefined {
  const slash = key.lastIndexOf('/');
  if (slash < 0) return undefined;
  const prefix = key.slice(0, slash).toLowerCase();
  const dcmOwn = RESERVED_LABEL_DOMAINS.find((r) => r.owner === 'the DCM' && underDomain(prefix, r.domain));
  if (!dcmOwn && allowedPrefixes.some((allowed) => key.startsWith(allowed))) return undefined;
  const keyOwner = RESERVED_LABEL_KEYS[key];
  if (keyOwner) return `label ${key} is set by ${keyOwner}; a logical cloud may not set it unless the project's policy allows its prefix (allowedLabelPrefixes)`;
  if (prefix === RECOMMENDED_LABEL_PREFIX) return undefined;
  const reserved = dcmOwn ?? RESERVED_LABEL_DOMAINS.find((r) => underDomain(prefix, r.domain));
  if (!reserved) return undefined;
  const lift = reserved === dcmOwn ? '' : "; an admin may allow the prefix in the project's policy (allowedLabelPrefixes)";
  return `label keys under ${reserved.domain} are reserved for ${reserved.owner} (the DCM sets Namespace labels with admin credentials)${lift}`;
}

/** A prefix a project policy may allow: `<DNS-1123 subdomain>/`, not one of the DCM's own. */
export const allowedLabelPrefix = boundedString(LIMITS.apiGroupLength + 1)
  .refine((s) => s.endsWith('/') && isDns1123Subdomain(s.slice(0, -1)), { message: 'a label prefix is a DNS subdomain followed by "/", e.g. pod-security.kubernetes.io/' })
  .refine((s) => !RESERVED_LABEL_DOMAINS.some((r) => r.owner === 'the DCM' && underDomain(s.slice(0, -1), r.domain)), {
    message: "the DCM's own label prefixes (dcm.onap.org/) cannot be allowed",
  })
  .meta({ pattern: `^(?!(?:[^/]*\\.)?dcm\\.onap\\.org/$)${SUBDOMAIN}/$`, maxLength: LIMITS.apiGroupLength + 1 });
