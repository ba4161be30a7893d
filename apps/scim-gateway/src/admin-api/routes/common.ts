import type { Config } from '../../config.js';
import type { Services } from '../../services.js';
import { array, integer, object, optional, queryInt, queryString, string, unknownValue, type Schema } from '../schema.js';

export interface RouteDeps {
  config: Config;
  services: Services;
}

export const errorSchema = object({
  code: string({ description: 'Stable machine-readable code, e.g. invalid_input, not_found, csrf_failed' }),
  message: string({ description: 'What went wrong, for a human' }),
  details: optional(unknownValue({ description: 'Context: `issues` ([{path, message}]) for validation errors' })),
  requestId: optional(string({ description: 'Only on 500: quote it when reporting the problem' })),
});

/** q / limit / offset, as every list of the admin API takes them. */
export const pageQueryShape = {
  q: queryString({ description: 'Search text' }),
  limit: queryInt({ min: 1, max: 500, default: 50, description: 'Page size' }),
  offset: queryInt({ min: 0, max: 10_000_000, default: 0, description: 'Rows to skip' }),
};

export function pageOf(item: Schema<unknown>): Schema<unknown> {
  return object({ items: array(item), total: integer({ min: 0, description: 'Rows matching the filters, all pages' }) });
}

export const uuid = (description?: string): Schema<string> => string({ format: 'uuid', ...(description ? { description } : {}) });
