/**
 * The hard limits of a ResourceQuota (quota key → quantity), and the same grammar as the patterns
 * of the OpenAPI document.
 * Pure: zod schemas and plain functions, no I/O. Checking these when a record is created means a
 * bad value is reported to the caller at once, naming the field, instead of failing later when the
 * logical cloud is instantiated on a cluster.
 */
import { z } from 'zod';
import { NAME_63, SUBDOMAIN } from './kubernetes-names.js';
import { boundedRecord, LIMITS, shortString } from './limits.js';
import { notAQuantity, parseQuantity } from './quantity.js';
import { normalizeQuotaKey, QUOTA_KEY_RULE, quotaKeyKind } from './quota-key.js';

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
  shortString(
    LIMITS.quotaValueLength,
    'a quota limit',
    z.string({ error: 'quota limits must be strings such as "4Gi" or "10"' }),
  ),
  LIMITS.quotaKeys,
  'quota keys',
  LIMITS.quotaKeyLength,
)
  .superRefine((spec, ctx) => {
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
  })
  .meta({
    minProperties: 1,
    maxProperties: LIMITS.quotaKeys,
    propertyNames: { type: 'string', maxLength: LIMITS.quotaKeyLength },
    patternProperties: {
      [QUOTA_PATTERNS.countKey]: { type: 'string', maxLength: LIMITS.quotaValueLength, pattern: QUOTA_PATTERNS.whole },
      [QUOTA_PATTERNS.amountKey]: {
        type: 'string',
        maxLength: LIMITS.quotaValueLength,
        pattern: QUOTA_PATTERNS.amount,
      },
    },
    additionalProperties: false,
    description:
      'ResourceQuota hard limits: quota key → quantity. Two keys limiting the same resource (cpu and requests.cpu) are refused.',
  });
