/**
 * Static bearer tokens from a file (a mounted Secret): a YAML or JSON list of
 * `{ name, token | sha256, role: admin | project, projects?, logicalClouds? }`. Only the
 * sha256 of each token is kept in memory; a presented token is hashed and compared with
 * every entry in constant time. An entry may hold the sha256 instead of the token, so the
 * Secret need not contain the token itself.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { z } from 'zod';
import type { Principal } from './authorize.js';

export class AuthConfigError extends Error {}

const Name = z.string().regex(/^[A-Za-z0-9_.:@-]{1,128}$/, 'must be 1-128 of A-Z a-z 0-9 _ . : @ -');
const ResourceName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^/\s]+$/, 'must be a name without / or white space');

const TokenEntry = z
  .strictObject({
    name: Name,
    token: z
      .string()
      .min(16, 'must be at least 16 characters')
      .regex(/^\S+$/, 'must not contain white space')
      .optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be the sha256 of the token: 64 hex digits')
      .optional(),
    role: z.enum(['admin', 'project']),
    projects: z.array(ResourceName).optional(),
    logicalClouds: z.array(z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'must be project/logical-cloud')).optional(),
  })
  .superRefine((entry, ctx) => {
    if ((entry.token === undefined) === (entry.sha256 === undefined))
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'give exactly one of token and sha256' });
    const scopes = (entry.projects?.length ?? 0) + (entry.logicalClouds?.length ?? 0);
    if (entry.role === 'project' && scopes === 0)
      ctx.addIssue({ code: 'custom', path: ['projects'], message: 'role project needs projects or logicalClouds' });
    if (entry.role === 'admin' && scopes > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['projects'],
        message: 'role admin may do everything: leave out projects and logicalClouds',
      });
  });

const TokenFile = z.array(TokenEntry).min(1, 'must list at least one token');

/** `[2].token`: the entry's index and field, as a reader of the file finds them. */
const where = (path: PropertyKey[]): string =>
  path.length === 0
    ? 'the file'
    : path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .replace(/^\./, '');

export const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** A short, non-reversible name of a token for logs: the first 8 hex digits of its sha256. */
export const tokenFingerprint = (token: string): string => sha256(token).toString('hex').slice(0, 8);

interface Entry {
  hash: Buffer;
  principal: Principal;
}

/** Parses the text of a token file; errors name the file, the entry and the field. */
export function parseTokenFile(text: string, source: string): StaticTokens {
  let data: unknown;
  try {
    data = yaml.load(text);
  } catch (error) {
    throw new AuthConfigError(`${source}: not valid YAML or JSON (${(error as Error).message.split('\n')[0]})`);
  }
  const parsed = TokenFile.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${source}: ${where(i.path)}: ${i.message}`);
    throw new AuthConfigError(`invalid token file:\n${problems.join('\n')}`);
  }
  const entries: Entry[] = [];
  const names = new Set<string>();
  for (const e of parsed.data) {
    if (names.has(e.name)) throw new AuthConfigError(`invalid token file: ${source}: the name ${e.name} is used twice`);
    names.add(e.name);
    const hash = e.token !== undefined ? sha256(e.token) : Buffer.from(e.sha256!, 'hex');
    const clash = entries.find((other) => other.hash.equals(hash));
    if (clash)
      throw new AuthConfigError(
        `invalid token file: ${source}: ${e.name} and ${clash.principal.name} have the same token`,
      );
    entries.push({
      hash,
      principal: {
        name: e.name,
        source: 'token',
        admin: e.role === 'admin',
        projects: new Set(e.projects ?? []),
        logicalClouds: new Set(e.logicalClouds ?? []),
      },
    });
  }
  return new StaticTokens(entries);
}

export function loadTokenFile(file: string): StaticTokens {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AuthConfigError(
      `DCM_AUTH_TOKENS_FILE ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  return parseTokenFile(text, file);
}

/** The token of an `Authorization: Bearer <token>` value (the scheme in any case), or undefined. */
export const bearerToken = (header: string | undefined): string | undefined =>
  header ? /^Bearer +(\S+) *$/i.exec(header)?.[1] : undefined;

/** Whether an Authorization value carries the token whose sha256 is `expected` (compared in constant time). */
export function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const token = bearerToken(header);
  return token !== undefined && timingSafeEqual(sha256(token), expected);
}

export class StaticTokens {
  constructor(private readonly entries: Entry[]) {}

  get size(): number {
    return this.entries.length;
  }

  /** The principal of a token, or undefined. Every entry is compared, so the time does not tell which one was close. */
  lookup(token: string): Principal | undefined {
    const hash = sha256(token);
    let found: Principal | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.hash, hash)) found = entry.principal;
    }
    return found;
  }
}
