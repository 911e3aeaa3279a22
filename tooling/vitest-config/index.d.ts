import type { UserProjectConfigExport, UserWorkspaceConfig } from 'vitest/config';

/** Vitest defaults for one workspace package, merged with `overrides`. */
export function defineProjectConfig(overrides?: UserWorkspaceConfig | UserProjectConfigExport): UserWorkspaceConfig;

/** Only the tests that need no service: unit tests next to the code. */
export const fastInclude: string[];
