import { ref, type Ref } from 'vue';
import { errorMessage } from '../api/client.ts';

export interface ConfirmedActionOptions {
  /** Turns a failure into the text the dialog shows; the server's message by default. */
  describeError?: (e: unknown) => string;
  /** Runs after a failure has been shown, e.g. to reload a list someone else changed meanwhile. */
  onError?: (e: unknown) => void;
}

/**
 * The part of a confirmed action that ConfirmDialog drives. Only reads of `pending`, so an action on any target
 * type fits; `ask` stays with the page, which knows the target.
 */
export interface ConfirmedActionState {
  pending: Readonly<Ref<unknown>>;
  busy: Readonly<Ref<boolean>>;
  error: Readonly<Ref<string | null>>;
  confirm: () => Promise<void>;
  cancel: () => void;
}

/**
 * A destructive action behind a confirmation dialog: `ask(target)` opens it, `confirm()` runs the action with a
 * busy flag and closes the dialog on success or keeps it open with the error, `cancel()` closes it and forgets
 * the error. Pass the whole object to ConfirmDialog's `action` prop.
 */
export function useConfirmedAction<T>(run: (target: T) => Promise<unknown>, options: ConfirmedActionOptions = {}) {
  const pending = ref(null) as Ref<T | null>;
  const busy = ref(false);
  const error = ref<string | null>(null);
  const describe = options.describeError ?? errorMessage;

  function ask(target: T) {
    pending.value = target;
  }

  async function confirm() {
    if (pending.value === null) return;
    busy.value = true;
    error.value = null;
    try {
      await run(pending.value);
      pending.value = null;
    } catch (e) {
      error.value = describe(e);
      options.onError?.(e);
    } finally {
      busy.value = false;
    }
  }

  function cancel() {
    pending.value = null;
    error.value = null;
  }

  return { pending, busy, error, ask, confirm, cancel };
}
