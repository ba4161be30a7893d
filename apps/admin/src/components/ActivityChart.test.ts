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
});
