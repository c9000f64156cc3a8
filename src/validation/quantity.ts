/**
 * Kubernetes quantities (resource.Quantity): `500m`, `1.5Gi`, `1e3`.
 * Pure: zod schemas and plain functions, no I/O. Checking these when a record is created means a
 * bad value is reported to the caller at once, naming the field, instead of failing later when the
 * logical cloud is instantiated on a cluster.
 */
import { z } from 'zod';

/**
 * `<sign>?<number><suffix>`: number is digits with at most one decimal point (`1`, `1.5`,
 * `.5`, `1.`); suffix is binary SI, decimal SI (including none) or `e`/`E` + integer.
 * `E` alone is the exa suffix; `E3` is an exponent.
 */
const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|[eE]([+-]?\d+)|([numkMGTPE]?))$/;

const BINARY_SI_POWER: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_SI_EXPONENT: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

/**
 * The value of a Kubernetes quantity as a (possibly approximate) number, or undefined
 * when `s` is not a quantity or its value does not fit in a double.
 */
export function parseQuantity(s: string): number | undefined {
  const match = QUANTITY.exec(s);
  if (!match) return undefined;
  const [, sign = '', digits = '', binarySuffix, exponent, decimalSuffix] = match;
  let value: number;
  if (binarySuffix !== undefined) {
    value = Number(sign + digits) * 2 ** (BINARY_SI_POWER[binarySuffix] ?? 0);
  } else {
    // Let Number() apply the decimal exponent, so "1.1k" is exactly 1100, not 1100.0000000000002.
    const power = exponent ?? String(DECIMAL_SI_EXPONENT[decimalSuffix ?? ''] ?? 0);
    value = Number(`${sign}${digits}e${power}`);
  }
  return Number.isFinite(value) ? value : undefined;
}

/** Whether `s` follows the Kubernetes quantity grammar (e.g. `1`, `500m`, `1.5Gi`, `1e3`). */
export function isQuantity(s: string): boolean {
  return parseQuantity(s) !== undefined;
}

/** A quantity that may be used as a limit: well-formed and not negative. */
export const nonNegativeQuantity = z.string().superRefine((s, ctx) => {
  const value = parseQuantity(s);
  if (value === undefined) {
    ctx.addIssue({ code: 'custom', message: notAQuantity(s) });
  } else if (value < 0) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} must not be negative` });
  }
});

export function notAQuantity(s: string): string {
  return `${JSON.stringify(s)} is not a Kubernetes quantity (examples: "2", "500m", "1.5", "4Gi", "1e3")`;
}
