/** The response compression: gzip level 6 above 1 KiB, opt-out per request with `x-no-compression`. */
export const COMPRESSION = { level: 6, threshold: 1024 } as const;
