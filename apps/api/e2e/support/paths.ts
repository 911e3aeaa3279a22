// Where the repository and the app live, seen from the black-box suite (which never imports the app's code).
import { fileURLToPath } from 'node:url';

/** The repository root (where the root README and `pnpm start` live). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** apps/api: its README, its package scripts and its built `dist/`. */
export const API_DIR = fileURLToPath(new URL('../../', import.meta.url));
