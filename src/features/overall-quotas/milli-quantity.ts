/**
 * Exact Kubernetes quantities for splitting a budget: a quantity as a whole number of
 * milli-units (BigInt), never a float. `1.5Gi` is 1610612736000 milli-bytes, `500m` is 500.
 * A part below a milli-unit (`1n`) is rounded up, as Kubernetes rounds quantities it stores.
 * The grammar is the one checked at the API (src/validation/quantity.ts), so every stored value parses.
 */
const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|[eE]([+-]?\d+)|([numkMGTPE]?))$/;

const BINARY_POWER: Record<string, bigint> = { Ki: 10n, Mi: 20n, Gi: 30n, Ti: 40n, Pi: 50n, Ei: 60n };
const DECIMAL_EXPONENT: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** Integer division rounding towards +infinity (for non-negative numerators). */
const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/** The quantity in milli-units, exactly; undefined when it is not a quantity (or absurdly large). */
export function toMilli(quantity: string): bigint | undefined {
  const match = QUANTITY.exec(quantity.trim());
  if (!match) return undefined;
  const [, sign = '', number = '', binary, exponent, decimal] = match;
  const [whole = '', fraction = ''] = number.split('.');
  // number = mantissa × 10^-fraction.length
  const mantissa = BigInt(`${whole}${fraction}` || '0');
  let scale = -fraction.length + 3; // to milli
  let factor = 1n;
  if (binary !== undefined) factor = 1n << (BINARY_POWER[binary] ?? 0n);
  else if (exponent !== undefined) {
    const e = Number(exponent);
    if (!Number.isSafeInteger(e) || Math.abs(e) > 100) return undefined;
    scale += e;
  } else scale += DECIMAL_EXPONENT[decimal ?? ''] ?? 0;
  const scaled = mantissa * factor;
  const milli = scale >= 0 ? scaled * 10n ** BigInt(scale) : ceilDiv(scaled, 10n ** BigInt(-scale));
  return sign === '-' ? -milli : milli;
}

/** Milli-units written back as a quantity: whole units without a suffix, else `<n>m`. */
export function fromMilli(milli: bigint): string {
  return milli % 1000n === 0n ? String(milli / 1000n) : `${milli}m`;
}

/** The smallest step a key is split in: one milli-CPU for CPU keys, one whole unit (object, byte) otherwise. */
export function stepOf(key: string): bigint {
  return /(^|\.)cpu$/.test(key) ? 1n : 1000n;
}

export const minBig = (a: bigint, b: bigint): bigint => (a < b ? a : b);
export const maxBig = (a: bigint, b: bigint): bigint => (a > b ? a : b);
export const sumBig = (values: Iterable<bigint>): bigint => {
  let total = 0n;
  for (const v of values) total += v;
  return total;
};
