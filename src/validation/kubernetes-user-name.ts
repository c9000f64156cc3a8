/**
 * A Kubernetes user name: the CN of a user's client certificate and the name in RBAC subjects.
 * Pure: zod schemas and plain functions, no I/O. Checking these when a record is created means a
 * bad value is reported to the caller at once, naming the field, instead of failing later when the
 * logical cloud is instantiated on a cluster.
 */
import { z } from 'zod';

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
  const alternatives = [...reserved].map((ch, i) =>
    i === 0 ? rest(`#\\s${ch}`) : `${reserved.slice(0, i)}${rest(ch)}`,
  );
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
