/** Turns zod failures into 406 ValidationErrors whose entries name the offending field. */
import type { z } from 'zod';
import { ValidationError, type ErrorEntry } from './errors.ts';

function fieldName(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') || 'body';
}

export function issuesToEntries(issues: readonly z.core.$ZodIssue[]): ErrorEntry[] {
  return issues.flatMap((issue): ErrorEntry[] => {
    const field = fieldName(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ token: 'unexpected_property', message: `${field === 'body' ? '' : `${field}.`}${key} is not a recognised property` }));
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) {
      return [{ token: 'required_property_missing', message: `${field} is required` }];
    }
    return [{ token: 'input_validation_error', message: `${field}: ${issue.message}` }];
  });
}

/** Parses `input` with `schema` or throws a 406 naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (!result.success) throw new ValidationError(issuesToEntries(result.error.issues));
  return result.data;
}
