import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import ActivityChart from './ActivityChart.vue';

describe('ActivityChart', () => {
  it('draws one bar segment per client and bucket, errors in red, with a legend of totals', () => {
    const w = mount(ActivityChart, {
      props: {
        stats: {
          bucket: 'hour',
          from: '2026-11-28T10:00:00Z',
          to: '2026-11-28T13:00:00Z',
          items: [
            { bucketStart: '2026-11-28T10:00:00Z', clientId: 'a', clientName: 'Keycloak', requests: 10, errors: 2 },
            { bucketStart: '2026-11-28T10:00:00Z', clientId: 'b', clientName: 'Okta', requests: 5, errors: 0 },
            { bucketStart: '2026-11-28T12:00:00Z', clientId: 'a', clientName: 'Keycloak', requests: 4, errors: 0 },
          ],
        },
      },
    });
    expect(w.findAll('rect.series-0')).toHaveLength(2);
    expect(w.findAll('rect.series-1')).toHaveLength(1);
    expect(w.findAll('rect.error-bar')).toHaveLength(1);
    expect(w.find('svg').attributes('aria-label')).toContain('19 requests, 2 errors');
    expect(w.find('.legend').text()).toContain('Keycloak: 14 requests, 2 errors');
    expect(w.html()).not.toContain('style=');
  });

  it('says so when there is nothing to chart', () => {
    const w = mount(ActivityChart, { props: { stats: { bucket: 'day', from: '2026-11-01T00:00:00Z', to: '2026-11-28T00:00:00Z', items: [] } } });
    expect(w.text()).toBe('No requests to chart in this range.');
  });

  const minutes = {
    bucket: 'minute' as const,
    from: '2026-11-28T10:00:00Z',
    to: '2026-11-28T11:00:00Z',
    items: [
      { bucketStart: '2026-11-28T10:58:00Z', clientId: 'a', clientName: 'Entra', requests: 7, errors: 0 },
      { bucketStart: '2026-11-28T10:59:00Z', clientId: 'a', clientName: 'Entra', requests: 3, errors: 1 },
      { bucketStart: '2026-11-28T10:59:00Z', clientId: 'b', clientName: 'Okta', requests: 2, errors: 2 },
    ],
  };

  it('spans the range in minute buckets and labels a few y ticks, not just 0 and the maximum', () => {
    const w = mount(ActivityChart, { props: { stats: minutes } });
    expect(w.findAll('[data-testid="chart-bucket"]')).toHaveLength(60);
    // The tallest bar holds 7 requests: ticks every 2 up to 8.
    expect(w.findAll('g.y-tick text').map((t) => t.text())).toEqual(['0', '2', '4', '6', '8']);
  });

  it('shows the exact counts of a bucket in a tooltip, and hides a client from the legend', async () => {
    const w = mount(ActivityChart, { props: { stats: minutes }, attachTo: document.body });
    const buckets = w.findAll('[data-testid="chart-bucket"]');
    await buckets[59]!.trigger('mouseenter');
    expect(w.find('[data-testid="chart-tooltip"]').text()).toContain('Entra: 3 requests, 1 error');
    expect(w.find('[data-testid="chart-tooltip"]').text()).toContain('Okta: 2 requests, 2 errors');
    expect(w.findAll('rect.series-1')).toHaveLength(0); // Okta's two requests both failed: all red
    expect(w.findAll('rect.error-bar')).toHaveLength(2);
    const okta = w.findAll('.legend-item').find((b) => b.text().startsWith('Okta'))!;
    await okta.trigger('click');
    expect(okta.attributes('aria-pressed')).toBe('false');
    expect(w.findAll('rect.error-bar')).toHaveLength(1);
    expect(w.find('[data-testid="chart-tooltip"]').text()).not.toContain('Okta');
    w.unmount();
  });
});
