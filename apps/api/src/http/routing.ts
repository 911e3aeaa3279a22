/**
 * Every router of the app matches paths exactly as written: case-sensitive (`/API/analyze` is not `/api/analyze`)
 * and strict (`/api/analyze/` is not `/api/analyze`). Anything else gets the JSON 404, so no spelling of a path can
 * reach a route while escaping what is decided for its canonical spelling.
 */
export const ROUTER_OPTIONS = { caseSensitive: true, strict: true } as const;
