// SCIM errors (RFC 7644 §3.12): `status` is a string in the body, `scimType` only where the RFC assigns one.

export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'
  /** RFC 9865 §3 (cursor paging). */
  | 'invalidCursor'
  | 'expiredCursor';

// RFC 7644 Table 9: each scimType belongs to one status. `tooMany` and `sensitive` may also travel with 403.
const STATUS_OF: Record<ScimType, readonly number[]> = {
  invalidFilter: [400],
  tooMany: [400],
  uniqueness: [409],
  mutability: [400],
  invalidSyntax: [400],
  invalidPath: [400],
  noTarget: [400],
  invalidValue: [400],
  invalidVers: [400],
  sensitive: [400, 403],
  invalidCursor: [400],
  expiredCursor: [400],
};

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

export class ScimError extends Error {
  override name = 'ScimError';
  readonly headers: Record<string, string> = {};

  constructor(
    readonly status: number,
    readonly scimType: ScimType | undefined,
    readonly detail: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(detail, options?.cause === undefined ? undefined : { cause: options.cause });
    if (scimType && !STATUS_OF[scimType].includes(status)) {
      throw new Error(`ScimError: scimType ${scimType} cannot go with status ${status}`);
    }
    if (status < 400 || status > 599) throw new Error(`ScimError: ${status} is not an error status`);
    if (options?.headers) Object.assign(this.headers, options.headers);
  }

  static invalidFilter(detail: string): ScimError {
    return new ScimError(400, 'invalidFilter', detail);
  }
  static invalidSyntax(detail: string): ScimError {
    return new ScimError(400, 'invalidSyntax', detail);
  }
  static invalidValue(detail: string): ScimError {
    return new ScimError(400, 'invalidValue', detail);
  }
  static invalidPath(detail: string): ScimError {
    return new ScimError(400, 'invalidPath', detail);
  }
  static noTarget(detail: string): ScimError {
    return new ScimError(400, 'noTarget', detail);
  }
  static mutability(detail: string): ScimError {
    return new ScimError(400, 'mutability', detail);
  }
  static tooMany(detail: string): ScimError {
    return new ScimError(400, 'tooMany', detail);
  }
  static uniqueness(detail: string): ScimError {
    return new ScimError(409, 'uniqueness', detail);
  }
  static badRequest(detail: string): ScimError {
    return new ScimError(400, undefined, detail);
  }
  static notFound(detail: string): ScimError {
    return new ScimError(404, undefined, detail);
  }
  static forbidden(detail: string): ScimError {
    return new ScimError(403, undefined, detail);
  }
  static preconditionFailed(detail: string): ScimError {
    return new ScimError(412, undefined, detail);
  }
  static notImplemented(detail: string): ScimError {
    return new ScimError(501, undefined, detail);
  }

  toJSON(): Record<string, unknown> {
    return {
      schemas: [SCIM_ERROR_SCHEMA],
      status: String(this.status),
      ...(this.scimType ? { scimType: this.scimType } : {}),
      detail: this.detail,
    };
  }
}
