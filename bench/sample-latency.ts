/** Latency sampled by sequential requests to the DCM's REST API (no queueing). */
import type { RestClient } from './dcm.js';

/** Sequential requests (one connection, closed loop) until `maxSamples` or the time budget, at least `minSamples`. */
export async function sampleLatency(
  rest: RestClient,
  paths: () => string,
  opts: { minSamples: number; maxSamples: number; budgetMs: number; check?: (body: unknown, headers: Headers) => void },
): Promise<number[]> {
  const samples: number[] = [];
  const deadline = performance.now() + opts.budgetMs;
  await fetch(`${rest.baseUrl}${paths()}`, { headers: rest.headers }).then((r) => r.arrayBuffer()); // warm-up
  while (samples.length < opts.maxSamples && (samples.length < opts.minSamples || performance.now() < deadline)) {
    const url = `${rest.baseUrl}${paths()}`;
    const started = performance.now();
    const res = await fetch(url, { headers: rest.headers });
    const text = await res.text();
    samples.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${text.slice(0, 300)}`);
    opts.check?.(JSON.parse(text), res.headers);
  }
  return samples;
}
