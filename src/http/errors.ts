// The error registry: every error Tollgate returns has a stable code listed here, with its HTTP
// status and OpenAI error type. All errors, /v1 and /api alike, use OpenAI's body shape:
//   {"error": {"message": "...", "type": "...", "code": "...", "param": "field" | null}}
// Documented in docs/api.md#errors.

export const ERRORS = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_api_key: { status: 401, type: 'authentication_error' },
  missing_credentials: { status: 401, type: 'authentication_error' },
  session_expired: { status: 401, type: 'authentication_error' },
  invalid_login: { status: 401, type: 'authentication_error' },
  csrf_failed: { status: 403, type: 'permission_error' },
  self_service_disabled: { status: 403, type: 'permission_error' },
  max_keys_reached: { status: 403, type: 'permission_error' },
  budget_above_ceiling: { status: 400, type: 'invalid_request_error' },
  expiry_required: { status: 400, type: 'invalid_request_error' },
  expiry_too_far: { status: 400, type: 'invalid_request_error' },
  limit_above_team: { status: 400, type: 'invalid_request_error' },
  invitation_invalid: { status: 404, type: 'not_found_error' },
  sso_failed: { status: 401, type: 'authentication_error' },
  sso_no_account: { status: 403, type: 'permission_error' },
  account_locked: { status: 429, type: 'rate_limit_error' },
  key_revoked: { status: 403, type: 'permission_error' },
  key_disabled: { status: 403, type: 'permission_error' },
  key_expired: { status: 403, type: 'permission_error' },
  ip_not_allowed: { status: 403, type: 'permission_error' },
  model_not_allowed: { status: 403, type: 'permission_error' },
  scope_not_allowed: { status: 403, type: 'permission_error' },
  forbidden: { status: 403, type: 'permission_error' },
  allocation_exceeded: { status: 403, type: 'permission_error' },
  not_found: { status: 404, type: 'not_found_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  request_timeout: { status: 408, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  payload_too_large: { status: 413, type: 'invalid_request_error' },
  uri_too_long: { status: 414, type: 'invalid_request_error' },
  expectation_failed: { status: 417, type: 'invalid_request_error' },
  headers_too_large: { status: 431, type: 'invalid_request_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  concurrency_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  budget_exceeded: { status: 429, type: 'insufficient_quota' },
  too_many_auth_failures: { status: 429, type: 'rate_limit_error' },
  cost_unbounded: { status: 400, type: 'invalid_request_error' },
  endpoint_not_supported: { status: 400, type: 'invalid_request_error' },
  internal_error: { status: 500, type: 'server_error' },
  upstream_error: { status: 502, type: 'upstream_error' },
  no_route: { status: 502, type: 'upstream_error' },
  service_unavailable: { status: 503, type: 'server_error' },
  upstream_timeout: { status: 504, type: 'upstream_error' },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface ErrorBody {
  error: { message: string; type: string; code: string; param: string | null; [extra: string]: unknown };
}

export function errorBody(code: ErrorCode, message: string, param: string | null = null, extra?: Record<string, unknown>): ErrorBody {
  return { error: { message, type: ERRORS[code].type, code, param, ...extra } };
}

/** Thrown by /api routes for expected failures; the error handler renders it. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly param: string | null;
  readonly extra: Record<string, unknown> | undefined;
  constructor(code: ErrorCode, message: string, param: string | null = null, extra?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.param = param;
    this.extra = extra;
  }
  get status(): number {
    return ERRORS[this.code].status;
  }
  toBody(): ErrorBody {
    return errorBody(this.code, this.message, this.param, this.extra);
  }
}

export const invalid = (param: string, message: string) => new ApiError('invalid_request', `${param}: ${message}`, param);
