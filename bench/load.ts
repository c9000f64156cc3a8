/**
 * Load generation with autocannon's programmatic API, run in a worker thread of its own so
 * that generating the load does not share the event loop of the server under test (which
 * listens in this process for the REST-overhead section).
 */
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  /** Requests, cycled through by every connection. */
  requests: autocannon.Request[];
  connections: number;
  durationSeconds: number;
  /** Fixed overall request rate (latencies are then corrected for coordinated omission). */
  overallRate?: number;
  /** Replace `[<id>]` in bodies by a unique id per request. */
  idReplacement?: boolean;
  /** In this thread instead of a worker (for tiny warm-ups). */
  inline?: boolean;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
  total: number;
  /** Responses that were not 2xx, plus connection errors and timeouts. */
  failures: number;
  statusCodes: Record<string, number>;
  durationSeconds: number;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const result = await autocannon({
    url: spec.url,
    requests: spec.requests,
    connections: spec.connections,
    duration: spec.durationSeconds,
    ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
    ...(spec.idReplacement ? { idReplacement: true } : {}),
    ...(spec.inline ? {} : { workers: 1 }),
    timeout: 30,
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  const durationSeconds = result.duration;
  return {
    // Completed requests over the measured time: the throughput that was actually served.
    requestsPerSecond: result.requests.total / durationSeconds,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    mean: result.latency.mean,
    max: result.latency.max,
    total: result.requests.total,
    failures: result.non2xx + result.errors + result.timeouts,
    statusCodes,
    durationSeconds,
  };
}

/** Fails the benchmark when a load run was answered with errors: numbers of failing requests mean nothing. */
export function assertHealthy(what: string, result: LoadResult): LoadResult {
  if (result.total === 0) throw new Error(`${what}: no request completed`);
  if (result.failures > 0) {
    throw new Error(
      `${what}: ${result.failures} of ${result.total} requests failed (status codes ${JSON.stringify(result.statusCodes)})`,
    );
  }
  return result;
}
