/** Configuration from environment variables, validated once at start-up. */
import { z } from 'zod';
import { securitySettings } from './config-security.js';
import { serviceSettings } from './config-service.js';
import { tenancySettings } from './config-tenancy.js';
import { tlsConfigProblems } from './security/tls.js';

/** Every setting, with its meaning: docs/configuration.md is rendered from it (`npm run docs:config`). */
export const ConfigSchema = z.object({ ...serviceSettings, ...tenancySettings, ...securitySettings });

/** Cross-field rules; the TLS files must exist, parse and match. */
const ValidatedConfigSchema = ConfigSchema.superRefine((c, ctx) => {
  const cert = c.DCM_TLS_CERT_FILE;
  const key = c.DCM_TLS_KEY_FILE;
  if ((cert === undefined) !== (key === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [cert === undefined ? 'DCM_TLS_CERT_FILE' : 'DCM_TLS_KEY_FILE'],
      message: 'DCM_TLS_CERT_FILE and DCM_TLS_KEY_FILE go together: set both (TLS) or neither (plaintext)',
    });
    return;
  }
  if (c.DCM_GRPC_CLIENT_CA_FILE !== undefined && cert === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['DCM_GRPC_CLIENT_CA_FILE'],
      message: 'needs DCM_TLS_CERT_FILE and DCM_TLS_KEY_FILE (client certificates are asked for over TLS only)',
    });
    return;
  }
  if (cert !== undefined && key !== undefined) {
    for (const problem of tlsConfigProblems({
      certFile: cert,
      keyFile: key,
      clientCaFile: c.DCM_GRPC_CLIENT_CA_FILE,
    })) {
      // "VARIABLE file…": the variable is the issue's path
      const variable = problem.split(' ')[0]!;
      ctx.addIssue({ code: 'custom', path: [variable], message: problem.slice(variable.length + 1) });
    }
  }
});

export type Config = z.infer<typeof ValidatedConfigSchema>;

export class ConfigError extends Error {}

/** The defaults, as a development or test run without environment gets them. */
export const defaultConfig = (): Config => ConfigSchema.parse({});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ValidatedConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new ConfigError(`invalid configuration:\n${problems}`);
  }
  return parsed.data;
}
