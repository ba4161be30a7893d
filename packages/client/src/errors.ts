/** An answer of Roster other than success: the HTTP status and Roster's `{code, message}` (or SCIM `detail`). */
export class RosterApiError extends Error {
  override name = 'RosterApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  /** Reads an error response of any Roster surface: /api (`code`, `message`), SCIM (`scimType`, `detail`), OAuth (`error`). */
  static async from(response: Response): Promise<RosterApiError> {
    let body: Record<string, unknown> = {};
    try {
      body = (await response.json()) as Record<string, unknown>;
    } catch {
      // Not JSON: the status says enough.
    }
    const code = String(body.code ?? body.error ?? body.scimType ?? `http_${response.status}`);
    const message = String(body.message ?? body.error_description ?? body.detail ?? `Roster answered ${response.status}`);
    return new RosterApiError(response.status, code, message, body.details);
  }
}
