/** Turns zod failures into InvalidInputError naming every offending field. */
import type { z } from 'zod';
import { InvalidInputError, type FieldProblem } from '../errors.js';

type Issue = z.core.$ZodIssue;

/**
 * For a body that may come in several shapes (design vs. EMCO), a failed union reports the
 * problems of the shape it came closest to: the branch with the fewest issues.
 */
function flatten(issues: readonly Issue[], base: PropertyKey[]): { path: PropertyKey[]; message: string }[] {
  return issues.flatMap((issue) => {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0]!;
      return flatten(closest, path);
    }
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...path, key], message: 'is not a known field' }));
    }
    return [{ path, message: issue.message }];
  });
}

export function fieldProblems(error: z.ZodError, prefix = ''): FieldProblem[] {
  return flatten(error.issues, []).map(({ path, message }) => {
    const field = [prefix, path.map(String).join('.')].filter(Boolean).join('.') || '(body)';
    return { field, message };
  });
}

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw InvalidInputError.forFields(fieldProblems(result.error, prefix));
  return result.data;
}
