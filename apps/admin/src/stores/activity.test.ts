import { describe, expect, it } from 'vitest';
import { bucketFor } from './activity.ts';

describe('bucketFor', () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  const ago = (ms: number) => new Date(now - ms).toISOString();
  it('takes minutes for an hour, hours for a day, days for a month', () => {
    expect(bucketFor(ago(3600_000), '', now)).toBe('minute');
    expect(bucketFor(ago(24 * 3600_000), '', now)).toBe('hour');
    expect(bucketFor(ago(30 * 24 * 3600_000), '', now)).toBe('day');
  });
});
