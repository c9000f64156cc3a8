/**
 * Labels (the Namespace labels of a logical cloud): keys, values and the label map.
 * Pure: zod schemas and plain functions, no I/O. Checking these when a record is created means a
 * bad value is reported to the caller at once, naming the field, instead of failing later when the
 * logical cloud is instantiated on a cluster.
 */
import { isDns1123Subdomain, PATTERNS } from './kubernetes-names.js';
import { boundedRecord, LIMITS, shortString } from './limits.js';

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
  shortString(LIMITS.labelValueLength, 'a label value'),
  LIMITS.labels,
  'labels',
  LIMITS.labelKeyLength,
)
  .superRefine((labels, ctx) => {
    for (const [key, value] of Object.entries(labels)) {
      if (!isLabelKey(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `"${key}" is not a valid label key ([prefix/]name, name ≤63 of A-Z a-z 0-9 - _ .)`,
        });
      } else if (!isLabelValue(value)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `"${value}" is not a valid label value (≤63 of A-Z a-z 0-9 - _ ., starting and ending alphanumeric)`,
        });
      }
    }
  })
  .meta({
    maxProperties: LIMITS.labels,
    propertyNames: { type: 'string', maxLength: LIMITS.labelKeyLength, pattern: PATTERNS.labelKey },
    additionalProperties: { type: 'string', maxLength: LIMITS.labelValueLength, pattern: PATTERNS.labelValue },
  });
