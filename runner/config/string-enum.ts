import { Type, type TUnsafe } from '@sinclair/typebox';

/** A string limited to `values`, as a plain JSON Schema `enum` (one clear error, editor completion). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description: string; default?: T[number] },
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}
