import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(opts: { level: string; pretty?: boolean }): Logger {
  return pino({
    level: opts.level,
    base: { service: 'dcm' },
    // Secrets never reach a log line, whatever an error or request carries.
    redact: {
      paths: ['req.headers.authorization', '*.kubeconfig', '*.privateKey', '*.caKey', '*.clientKey'],
      censor: '[redacted]',
    },
    ...(opts.pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
