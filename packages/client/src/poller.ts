import type { RosterClient } from './client.js';
import { decodeSet, type SecurityEvent } from './sets.js';

// A poller of an RFC 8936 event stream: it asks for events, hands each SET to the handler, and acknowledges
// it in the next request (§2.4: `ack`), or reports it in `setErrs` when the handler threw (§2.4.3), so the
// transmitter redelivers nothing processed and keeps nothing failed silently. With `returnImmediately: false`
// the server may hold the request until events arrive (long polling, §2.4); when it answers `moreAvailable`,
// or acknowledgements are due, the next poll follows at once.

export interface PollerOptions {
  client: Pick<RosterClient, 'pollEvents'>;
  streamId: string;
  /** Called for each SET in order of arrival; throwing reports the SET in setErrs instead of acknowledging it. */
  onEvent(event: SecurityEvent, set: string): Promise<void> | void;
  /** Verifies a SET before onEvent (see createSetVerifier); by default SETs are only decoded. */
  verify?: (set: string) => Promise<SecurityEvent>;
  maxEvents?: number;
  /** Short polling (true, the default) with `intervalMs` (default 1,000) between empty answers, or long polling (false). */
  returnImmediately?: boolean;
  intervalMs?: number;
  /** Told about failed polls; polling goes on after `retryMs`. */
  onError?: (error: unknown) => void;
  retryMs?: number;
}

export interface Poller {
  /** Resolves when the poller has stopped (after `stop()`). */
  done: Promise<void>;
  stop(): Promise<void>;
  /** Polls once now (also while the loop waits); resolves with the number of SETs handled. */
  pollNow(): Promise<number>;
}

export function startEventPoller(options: PollerOptions): Poller {
  const controller = new AbortController();
  let ack: string[] = [];
  let setErrs: Record<string, { err: string; description: string }> = {};
  let wake: (() => void) | undefined;
  let running: Promise<{ handled: number; more: boolean }> | undefined;

  async function pollOnce(): Promise<{ handled: number; more: boolean }> {
    const request = {
      maxEvents: options.maxEvents ?? 100,
      returnImmediately: options.returnImmediately ?? true,
      ack,
      ...(Object.keys(setErrs).length > 0 ? { setErrs } : {}),
    };
    const response = await options.client.pollEvents(options.streamId, request, controller.signal);
    // Acknowledged by this request: never sent again.
    ack = [];
    setErrs = {};
    let handled = 0;
    for (const [jti, set] of Object.entries(response.sets ?? {})) {
      try {
        const event = options.verify ? await options.verify(set) : decodeSet(set);
        await options.onEvent(event, set);
        ack.push(jti);
      } catch (error) {
        setErrs[jti] = { err: 'invalid_request', description: error instanceof Error ? error.message.slice(0, 200) : 'the event could not be processed' };
      }
      handled += 1;
    }
    return { handled, more: response.moreAvailable === true };
  }

  function once(): Promise<{ handled: number; more: boolean }> {
    running ??= pollOnce().finally(() => {
      running = undefined;
    });
    return running;
  }

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const done = (async () => {
    while (!controller.signal.aborted) {
      try {
        const { more } = await once();
        // More waiting, or acknowledgements to deliver: ask again at once (the next request carries the ack).
        if (more || ack.length > 0 || Object.keys(setErrs).length > 0) continue;
        // A long poll already waited at the server; a short pause keeps a server that does not hold
        // requests from being asked in a tight loop.
        await pause(options.returnImmediately === false ? Math.max(options.intervalMs ?? 100, 100) : (options.intervalMs ?? 1000));
      } catch (error) {
        if (controller.signal.aborted) break;
        options.onError?.(error);
        await pause(options.retryMs ?? 2000);
      }
    }
  })();

  return {
    done,
    async stop() {
      controller.abort();
      wake?.();
      await done;
    },
    async pollNow() {
      return (await once()).handled;
    },
  };
}
