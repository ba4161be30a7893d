// Test support (left out of the build): what a SCIM engine function threw.
import { ScimError } from './errors.js';

/** The ScimError `run` throws; any other outcome fails the test. */
export function thrownScimError(run: () => unknown): ScimError {
  try {
    run();
  } catch (error) {
    if (error instanceof ScimError) return error;
    throw error;
  }
  throw new Error('expected a ScimError');
}

/** The parts of the thrown ScimError a client sees: status, scimType and detail. */
export function scimErrorOf(run: () => unknown): { status: number; scimType: string | undefined; detail: string } {
  const { status, scimType, detail } = thrownScimError(run);
  return { status, scimType, detail };
}
