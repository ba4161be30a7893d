import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useSearchQuery } from './useSearchQuery.ts';

describe('useSearchQuery', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('starts from the given text and applies it trimmed at once on submit', async () => {
    const applied: string[] = [];
    const { q, submit } = useSearchQuery('ann', (value) => applied.push(value));
    expect(q.value).toBe('ann');
    q.value = '  bob ';
    await submit();
    expect(applied).toEqual(['bob']);
  });

  it('applies typed text once typing pauses, not per keystroke', () => {
    const applied: string[] = [];
    const { search } = useSearchQuery('', (value) => applied.push(value));
    search('a');
    search('ab ');
    expect(applied).toEqual([]);
    vi.advanceTimersByTime(300);
    expect(applied).toEqual(['ab']);
  });
});
