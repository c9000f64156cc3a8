/**
 * Kubernetes names: DNS-1123 labels and subdomains, and the patterns of names, label keys and values
 * the OpenAPI document shows.
 * Pure: zod schemas and plain functions, no I/O. Checking these when a record is created means a
 * bad value is reported to the caller at once, naming the field, instead of failing later when the
 * logical cloud is instantiated on a cluster.
 */
import { z } from 'zod';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/*
 * The same rules as JSON Schema patterns, for the OpenAPI document (attached with `.meta()`
 * where a refine enforces them). Written in the syntax ECMA-262 and Python's `re` share
 * (no \p{…}, no lookbehind), since clients and test generators read them with either.
 */
export const LABEL_63 = '[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?';
export const SUBDOMAIN = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*';
export const NAME_63 = '[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
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

export function isDns1123Subdomain(s: string): boolean {
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
