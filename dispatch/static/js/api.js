// Calls to the service's API from a signed-in console: the session cookie authenticates, and
// every call carries X-Requested-With (the server refuses unsafe cookie requests without it).

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code || "http_error";
    this.details = error?.details || [];
  }
}

/** A random key for Idempotency-Key; crypto.randomUUID needs HTTPS, getRandomValues does not. */
export function randomKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Send a request; resolve to {status, data} or reject with ApiError (status 0: network). */
export async function api(method, path, body, { headers = {}, signInOn401 = true } = {}) {
  const all = { "X-Requested-With": "dispatch", Accept: "application/json", ...headers };
  const init = { method, headers: all, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    all["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, { code: "network", message: String(error) });
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (response.status === 401 && signInOn401) {
    // The shift's session ended: back to sign-in, then here again.
    location.assign(`/console/?next=${encodeURIComponent(location.pathname)}`);
  }
  if (!response.ok) throw new ApiError(response.status, data?.error);
  return { status: response.status, data };
}

export const get = (path, options) => api("GET", path, undefined, options);
export const post = (path, body, options) => api("POST", path, body ?? {}, options);
