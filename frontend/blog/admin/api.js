// The admin's one way to the server: JSON in and out, the session cookie
// (HttpOnly, sent by the browser), the X-CSRF-Token header on every
// state-changing request, and one "admin:unauthorized" event on any 401 so
// the app can go back to the login form.

let csrfToken = null;

/** Sets the CSRF token from /api/auth/login or /api/auth/me (null: none). */
export function setCsrf(token) {
  csrfToken = token || null;
}

/** An API error: HTTP status (0 when the server was unreachable), the
 *  error code and message of {"error":{...}}, and the field it names. */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field || null;
  }
}

/**
 * Calls the API. body: a plain object (sent as JSON), FormData (multipart),
 * or undefined. Resolves with the parsed JSON (null for 204); rejects with
 * ApiError. options.quiet401: a 401 is the caller's business (the login
 * form's wrong password), no event.
 */
export async function api(method, path, body, options = {}) {
  const headers = { Accept: "application/json" };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;

  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: "same-origin",
      cache: "no-store" });
  } catch {
    throw new ApiError(0, "network", "The server could not be reached. Check your connection.");
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.ok) return data;

  const err = (data && data.error) || {};
  const message = err.message || `${res.status} ${res.statusText || "request failed"}`;
  if (res.status === 401 && !options.quiet401) {
    csrfToken = null;
    window.dispatchEvent(new CustomEvent("admin:unauthorized"));
  }
  throw new ApiError(res.status, err.code || `http_${res.status}`, message, err.field);
}

/** A query string from an object, skipping empty values ("?a=1&b=2" or ""). */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}
