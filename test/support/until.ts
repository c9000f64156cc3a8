/** Resolves once `condition` holds, asking every `everyMs` (a condition, not a fixed sleep); fails after `timeoutMs`. */
export async function until(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
