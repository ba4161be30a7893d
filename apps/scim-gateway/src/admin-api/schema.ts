// A small schema helper for the admin API's edge: each schema validates an input value (collecting every
// problem with its path, so one 400 names all of them), describes itself as JSON Schema for the OpenAPI
// document, and, for responses, strips undeclared fields so that a column added later (a hash, a secret)
// can never reach a response by accident. Objects are strict on input: an unknown field is an error.

export interface Issue {
  path: string;
  message: string;
}

export type JsonSchema = { [key: string]: unknown };

export const INVALID: unique symbol = Symbol('invalid');
type Invalid = typeof INVALID;

export interface Schema<T> {
  readonly isOptional: boolean;
  /** Returns the parsed value, or INVALID after pushing at least one issue. */
  parse(value: unknown, path: string, issues: Issue[]): T | Invalid;
  /** Output filter for responses: keeps declared object fields only (recursively). */
  strip(value: unknown): unknown;
  jsonSchema(): JsonSchema;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

interface Described {
  description?: string;
}

function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function fail(issues: Issue[], path: string, message: string): Invalid {
  issues.push({ path, message });
  return INVALID;
}

function base<T>(parse: Schema<T>['parse'], json: () => JsonSchema, strip: (value: unknown) => unknown = (value) => value): Schema<T> {
  return { isOptional: false, parse, strip, jsonSchema: json };
}

const FORMATS = {
  email: { test: (v: string) => v.length <= 320 && /^[^\s@]+@[^\s@]+$/.test(v), message: 'must be an email address' },
  uri: { test: (v: string) => URL.canParse(v) && /^https?:/i.test(v), message: 'must be an absolute http(s) URL' },
  uuid: { test: (v: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v), message: 'must be a UUID' },
  'date-time': { test: (v: string) => /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) && !Number.isNaN(Date.parse(v)), message: 'must be an ISO 8601 date or date-time' },
} as const;

export function string(options: Described & { min?: number; max?: number; format?: keyof typeof FORMATS; pattern?: RegExp } = {}): Schema<string> {
  return base(
    (value, path, issues) => {
      if (typeof value !== 'string') return fail(issues, path, `must be a string, got ${typeName(value)}`);
      if (options.min !== undefined && value.length < options.min) {
        return fail(issues, path, options.min === 1 ? 'must not be empty' : `must be at least ${options.min} characters`);
      }
      if (options.max !== undefined && value.length > options.max) return fail(issues, path, `must be at most ${options.max} characters`);
      if (options.format && !FORMATS[options.format].test(value)) return fail(issues, path, FORMATS[options.format].message);
      if (options.pattern && !options.pattern.test(value)) return fail(issues, path, `must match ${options.pattern.source}`);
      return value;
    },
    () => ({
      type: 'string',
      ...(options.min !== undefined ? { minLength: options.min } : {}),
      ...(options.max !== undefined ? { maxLength: options.max } : {}),
      ...(options.format ? { format: options.format } : {}),
      ...(options.pattern ? { pattern: options.pattern.source } : {}),
      ...(options.description ? { description: options.description } : {}),
    }),
  );
}

export function boolean(options: Described = {}): Schema<boolean> {
  return base(
    (value, path, issues) => (typeof value === 'boolean' ? value : fail(issues, path, `must be true or false, got ${typeName(value)}`)),
    () => ({ type: 'boolean', ...(options.description ? { description: options.description } : {}) }),
  );
}

export function integer(options: Described & { min?: number; max?: number } = {}): Schema<number> {
  return base(
    (value, path, issues) => {
      if (typeof value !== 'number' || !Number.isInteger(value)) return fail(issues, path, `must be a whole number, got ${typeName(value)}`);
      if (options.min !== undefined && value < options.min) return fail(issues, path, `must be at least ${options.min}`);
      if (options.max !== undefined && value > options.max) return fail(issues, path, `must be at most ${options.max}`);
      return value;
    },
    () => ({
      type: 'integer',
      ...(options.min !== undefined ? { minimum: options.min } : {}),
      ...(options.max !== undefined ? { maximum: options.max } : {}),
      ...(options.description ? { description: options.description } : {}),
    }),
  );
}

export function oneOf<const T extends string>(values: readonly T[], options: Described = {}): Schema<T> {
  return base(
    (value, path, issues) =>
      typeof value === 'string' && (values as readonly string[]).includes(value) ? (value as T) : fail(issues, path, `must be one of ${values.map((v) => `"${v}"`).join(', ')}`),
    () => ({ type: 'string', enum: [...values], ...(options.description ? { description: options.description } : {}) }),
  );
}

/** Any JSON value (responses only: SCIM attributes, audit detail). */
export function unknownValue(options: Described = {}): Schema<unknown> {
  return base((value) => value, () => (options.description ? { description: options.description } : {}));
}

/** A timestamp in responses (Date objects serialize to ISO 8601). */
export function dateTime(options: Described = {}): Schema<string> {
  return { ...string({ ...options, format: 'date-time' }), strip: (value) => (value instanceof Date ? value.toISOString() : value) };
}

export function optional<T>(schema: Schema<T>): Schema<T | undefined> {
  return {
    isOptional: true,
    parse: (value, path, issues) => (value === undefined ? undefined : schema.parse(value, path, issues)),
    strip: (value) => (value === undefined ? undefined : schema.strip(value)),
    jsonSchema: () => schema.jsonSchema(),
  };
}

export function nullable<T>(schema: Schema<T>): Schema<T | null> {
  return {
    isOptional: schema.isOptional,
    parse: (value, path, issues) => (value === null ? null : schema.parse(value, path, issues)),
    strip: (value) => (value === null ? null : schema.strip(value)),
    jsonSchema: () => {
      const inner = schema.jsonSchema();
      return typeof inner.type === 'string' ? { ...inner, type: [inner.type, 'null'] } : { anyOf: [inner, { type: 'null' }] };
    },
  };
}

export function array<T>(item: Schema<T>, options: Described & { max?: number } = {}): Schema<T[]> {
  return base(
    (value, path, issues) => {
      if (!Array.isArray(value)) return fail(issues, path, `must be an array, got ${typeName(value)}`);
      if (options.max !== undefined && value.length > options.max) return fail(issues, path, `must have at most ${options.max} items`);
      const out: T[] = [];
      let ok = true;
      value.forEach((entry, index) => {
        const parsed = item.parse(entry, at(path, index), issues);
        if (parsed === INVALID) ok = false;
        else out.push(parsed);
      });
      return ok ? out : INVALID;
    },
    () => ({ type: 'array', items: item.jsonSchema(), ...(options.max !== undefined ? { maxItems: options.max } : {}), ...(options.description ? { description: options.description } : {}) }),
    (value) => (Array.isArray(value) ? value.map((entry) => item.strip(entry)) : value),
  );
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K]['isOptional'] extends true ? K : undefined extends Infer<S[K]> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type ObjectOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> };

export interface ObjectSchema<S extends Shape> extends Schema<ObjectOf<S>> {
  readonly shape: S;
}

/** A strict object: unknown fields are refused on input and dropped on output. */
export function object<S extends Shape>(shape: S, options: Described & { minProperties?: number } = {}): ObjectSchema<S> {
  const keys = Object.keys(shape);
  return {
    shape,
    isOptional: false,
    parse: (value, path, issues) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(issues, path, `must be an object, got ${typeName(value)}`);
      const input = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      let ok = true;
      for (const key of Object.keys(input)) {
        if (!Object.hasOwn(shape, key)) {
          ok = false;
          issues.push({ path: at(path, key), message: `is not a known field (expected ${keys.length ? keys.join(', ') : 'no fields'})` });
        }
      }
      for (const key of keys) {
        const field = shape[key]!;
        const present = Object.hasOwn(input, key) && input[key] !== undefined;
        if (!present && !field.isOptional) {
          ok = false;
          issues.push({ path: at(path, key), message: 'is required' });
          continue;
        }
        // Absent optional fields are parsed too: a query parameter's default comes from its schema.
        const parsed = field.parse(present ? input[key] : undefined, at(path, key), issues);
        if (parsed === INVALID) ok = false;
        else if (parsed !== undefined) out[key] = parsed;
      }
      if (ok && options.minProperties !== undefined && Object.keys(out).length < options.minProperties) {
        return fail(issues, path, `must name at least ${options.minProperties} of ${keys.join(', ')}`);
      }
      return ok ? (out as ObjectOf<S>) : INVALID;
    },
    strip: (value) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
      const input = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const key of keys) if (input[key] !== undefined) out[key] = shape[key]!.strip(input[key]);
      return out;
    },
    jsonSchema: () => ({
      type: 'object',
      properties: Object.fromEntries(keys.map((key) => [key, shape[key]!.jsonSchema()])),
      required: keys.filter((key) => !shape[key]!.isOptional),
      additionalProperties: false,
      ...(options.minProperties !== undefined ? { minProperties: options.minProperties } : {}),
      ...(options.description ? { description: options.description } : {}),
    }),
  };
}

// Query strings: every value arrives as a string; these parse the text form and refuse a repeated parameter.

function single(value: unknown, path: string, issues: Issue[]): string | Invalid {
  if (Array.isArray(value)) return fail(issues, path, 'must be given once');
  if (typeof value !== 'string') return fail(issues, path, `must be a string, got ${typeName(value)}`);
  return value;
}

export function queryString(options: Described & { max?: number; format?: keyof typeof FORMATS } = {}): Schema<string | undefined> {
  const inner = string({ ...options, max: options.max ?? 200 });
  return optional({
    ...inner,
    parse: (value, path, issues) => {
      const text = single(value, path, issues);
      if (text === INVALID) return INVALID;
      if (text === '') return undefined as unknown as string;
      return inner.parse(text, path, issues);
    },
  });
}

export function queryInt(options: Described & { min: number; max: number; default: number }): Schema<number> {
  return {
    isOptional: true,
    parse: (value, path, issues) => {
      if (value === undefined) return options.default;
      const text = single(value, path, issues);
      if (text === INVALID) return INVALID;
      if (!/^\d+$/.test(text)) return fail(issues, path, `must be a whole number, got "${text.slice(0, 40)}"`);
      const number = Number(text);
      if (number < options.min || number > options.max) return fail(issues, path, `must be between ${options.min} and ${options.max}`);
      return number;
    },
    strip: (value) => value,
    jsonSchema: () => ({ type: 'integer', minimum: options.min, maximum: options.max, default: options.default, ...(options.description ? { description: options.description } : {}) }),
  };
}

export function queryBool(options: Described = {}): Schema<boolean | undefined> {
  return optional(
    base(
      (value, path, issues) => {
        const text = single(value, path, issues);
        if (text === INVALID) return INVALID;
        if (text === 'true') return true;
        if (text === 'false') return false;
        return fail(issues, path, 'must be true or false');
      },
      () => ({ type: 'boolean', ...(options.description ? { description: options.description } : {}) }),
    ),
  );
}

export function queryEnum<const T extends string>(values: readonly T[], options: Described = {}): Schema<T | undefined> {
  const inner = oneOf(values, options);
  return optional(
    base(
      (value, path, issues) => {
        const text = single(value, path, issues);
        return text === INVALID ? INVALID : inner.parse(text, path, issues);
      },
      () => inner.jsonSchema(),
    ),
  );
}

export function queryDate(options: Described = {}): Schema<Date | undefined> {
  return optional(
    base(
      (value, path, issues) => {
        const text = single(value, path, issues);
        if (text === INVALID) return INVALID;
        if (!FORMATS['date-time'].test(text)) return fail(issues, path, 'must be an ISO 8601 date or date-time, e.g. 2026-11-28T10:00:00Z');
        return new Date(text);
      },
      () => ({ type: 'string', format: 'date-time', ...(options.description ? { description: options.description } : {}) }),
    ),
  );
}

/** Parses `value` or returns the issues (every one of them, each with its path). */
export function validate<T>(schema: Schema<T>, value: unknown, root = ''): { ok: true; value: T } | { ok: false; issues: Issue[] } {
  const issues: Issue[] = [];
  const parsed = schema.parse(value, root, issues);
  if (parsed === INVALID || issues.length > 0) return { ok: false, issues: issues.length ? issues : [{ path: root, message: 'is invalid' }] };
  return { ok: true, value: parsed };
}

/** One of several object schemas, chosen by the string value of `key` (e.g. kind: "oidc" | "saml"). */
export function discriminated<K extends string, M extends Record<string, ObjectSchema<Shape>>>(key: K, variants: M): Schema<Infer<M[keyof M]>> {
  const names = Object.keys(variants);
  return base(
    (value, path, issues) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(issues, path, `must be an object, got ${typeName(value)}`);
      const tag = (value as Record<string, unknown>)[key];
      const variant = typeof tag === 'string' && Object.hasOwn(variants, tag) ? variants[tag] : undefined;
      if (!variant) return fail(issues, at(path, key), tag === undefined ? 'is required' : `must be one of ${names.map((n) => `"${n}"`).join(', ')}`);
      return variant.parse(value, path, issues) as Infer<M[keyof M]> | Invalid;
    },
    () => ({ oneOf: names.map((name) => variants[name]!.jsonSchema()), discriminator: { propertyName: key } }),
    (value) => {
      const tag = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
      return typeof tag === 'string' && Object.hasOwn(variants, tag) ? variants[tag]!.strip(value) : value;
    },
  );
}

export function literal<const T extends string>(value: T, options: Described = {}): Schema<T> {
  return base(
    (input, path, issues) => (input === value ? value : fail(issues, path, `must be "${value}"`)),
    () => ({ type: 'string', const: value, ...(options.description ? { description: options.description } : {}) }),
  );
}
