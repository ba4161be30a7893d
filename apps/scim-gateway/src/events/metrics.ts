import { Counter, Gauge, type Registry } from 'prom-client';
import type { EventServices } from './services.js';

/** The lag gauge queries the database: at most once per this many ms, however often scraped. */
const LAG_QUERY_EVERY_MS = 5000;

// Event delivery metrics (docs/operations.md). `stream` labels are stream names (as many as the admins create).
export function registerEventMetrics(registry: Registry, events: EventServices): void {
  const delivered = new Counter({
    name: 'roster_events_delivered_total',
    help: 'SETs pushed and accepted (202) by this process, by stream.',
    labelNames: ['stream'] as const,
    registers: [registry],
  });
  const failed = new Counter({
    name: 'roster_events_failed_total',
    help: 'Push attempts that failed (not 202, timeout, connection error) in this process, by stream; each is retried.',
    labelNames: ['stream'] as const,
    registers: [registry],
  });
  events.onAttempt((attempt) => (attempt.ok ? delivered : failed).inc({ stream: attempt.streamName }));

  let lags: { values: Array<{ stream: string; seconds: number }>; at: number } = { values: [], at: Number.NEGATIVE_INFINITY };
  new Gauge({
    name: 'roster_event_lag_seconds',
    help: `Age of the oldest change a stream has not delivered yet (0 when caught up), by stream (refreshed at most every ${LAG_QUERY_EVERY_MS / 1000} s).`,
    labelNames: ['stream'] as const,
    registers: [registry],
    async collect() {
      if (Date.now() - lags.at >= LAG_QUERY_EVERY_MS) {
        try {
          const { items } = await events.streams.list({ limit: 500 });
          const values = await Promise.all(items.map(async (stream) => ({ stream: stream.name, seconds: (await events.streams.lag(stream.id)).seconds })));
          lags = { values, at: Date.now() };
        } catch {
          // The database is down: keep the last values.
        }
      }
      this.reset();
      for (const { stream, seconds } of lags.values) this.set({ stream }, seconds);
    },
  });
}
