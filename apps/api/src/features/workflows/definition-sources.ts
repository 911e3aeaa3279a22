import type { Database } from '../../db/database.js';
import {
  AnalysisError,
  parseWorkflowDefinition,
  workflowDefinitionSchema,
  workflowIdOf,
  type WorkflowDefinition,
} from '../../analysis/index.js';
import type { GhlClient } from '../../ghl/client.js';
import { GhlError } from '../../ghl/errors.js';
import { WorkflowError } from './errors.js';

/** Bounds of what a location can store through `POST /workflows/import` (GHL locations have far fewer workflows). */
export const IMPORT_LIMITS = { workflowsPerLocation: 500, versionsPerWorkflow: 10 } as const;

/** A workflow definition with where and when it came from. */
export interface StoredDefinition {
  workflowId: string;
  version: number;
  name: string;
  status: 'draft' | 'published';
  source: 'import' | 'builder';
  definition: WorkflowDefinition;
}

/**
 * Where workflow definitions (steps and triggers) come from. GHL's public API lists workflows but never returns their
 * steps, so a definition is either imported through the API or read from the builder backend.
 */
export interface WorkflowDefinitionSource {
  readonly kind: 'import' | 'builder';
  /** The latest definition of a workflow of `locationId`; undefined when this source has none (or it is another location's). */
  get(locationId: string, workflowId: string): Promise<StoredDefinition | undefined>;
  /** The latest definition of every workflow this source knows for `locationId`. */
  list(locationId: string): Promise<StoredDefinition[]>;
}

function stored(def: WorkflowDefinition, source: StoredDefinition['source']): StoredDefinition {
  return {
    workflowId: workflowIdOf(def),
    version: def.version ?? 0,
    name: def.name,
    status: def.status,
    source,
    definition: def,
  };
}

/** The imported-definition source also takes imports. */
export interface ImportedDefinitionSource extends WorkflowDefinitionSource {
  /** The latest definition, or exactly `version` (imports keep every version). */
  get(locationId: string, workflowId: string, options?: { version?: number }): Promise<StoredDefinition | undefined>;
  /**
   * Validates `input` (the canonical JSON) and stores it as the workflow's definition at its `version` (re-importing a
   * version replaces it). Throws `InvalidDefinitionError` listing every problem; `LOCATION_MISMATCH` when the definition
   * names another location.
   */
  import(locationId: string, input: unknown): Promise<StoredDefinition>;
}

const SELECT = `SELECT definition FROM workflow_definitions`;

/** Definitions imported through `POST /workflows/import`, one row per location, workflow and version. */
export function createImportedDefinitionSource(db: Database): ImportedDefinitionSource {
  const rowsToStored = (rows: { definition: unknown }[]) =>
    rows.map((r) => stored(workflowDefinitionSchema.parse(r.definition), 'import'));
  return {
    kind: 'import',
    async get(locationId, workflowId, options = {}) {
      const { rows } = await db.read<{ definition: unknown }>(
        `${SELECT} WHERE location_id = $1 AND workflow_id = $2 AND source = 'import' AND ($3::int IS NULL OR version = $3) ORDER BY version DESC LIMIT 1`,
        [locationId, workflowId, options.version ?? null],
      );
      return rowsToStored(rows)[0];
    },
    async list(locationId) {
      const { rows } = await db.read<{ definition: unknown }>(
        `SELECT DISTINCT ON (workflow_id) definition FROM workflow_definitions WHERE location_id = $1 AND source = 'import' ORDER BY workflow_id, version DESC`,
        [locationId],
      );
      return rowsToStored(rows);
    },
    async import(locationId, input) {
      const def = parseWorkflowDefinition(input);
      if (def.locationId !== locationId)
        throw new AnalysisError('LOCATION_MISMATCH', 'The definition belongs to another location');
      const entry = stored(def, 'import');
      // A new workflow is stored only while the location is under its cap; a known one always gets its new version.
      const { rowCount } = await db.query(
        `INSERT INTO workflow_definitions (location_id, workflow_id, version, name, source, definition)
         SELECT $1, $2, $3, $4, 'import', $5
          WHERE EXISTS (SELECT 1 FROM workflow_definitions WHERE location_id = $1 AND workflow_id = $2)
             OR (SELECT count(DISTINCT workflow_id) FROM workflow_definitions WHERE location_id = $1) < $6
         ON CONFLICT (location_id, workflow_id, version) DO UPDATE SET name = EXCLUDED.name, source = 'import', definition = EXCLUDED.definition, imported_at = now()`,
        [
          locationId,
          entry.workflowId,
          entry.version,
          def.name,
          JSON.stringify(input),
          IMPORT_LIMITS.workflowsPerLocation,
        ],
      );
      if (!rowCount) {
        throw new WorkflowError(
          'WORKFLOW_LIMIT_REACHED',
          `The location already has ${IMPORT_LIMITS.workflowsPerLocation} imported workflows; import new versions of those instead`,
        );
      }
      // Only the newest versions of a workflow are kept (older ones are what queued jobs may still name, briefly).
      await db.query(
        `DELETE FROM workflow_definitions WHERE location_id = $1 AND workflow_id = $2 AND source = 'import' AND version NOT IN (
           SELECT version FROM workflow_definitions WHERE location_id = $1 AND workflow_id = $2 AND source = 'import' ORDER BY version DESC LIMIT $3)`,
        [locationId, entry.workflowId, IMPORT_LIMITS.versionsPerWorkflow],
      );
      return entry;
    },
  };
}

/** Options of `createBuilderDefinitionSource`. */
export interface BuilderSourceOptions {
  client: GhlClient;
  /**
   * The builder backend's base URL. UNOFFICIAL: GHL documents no endpoint returning a workflow's steps; the builder's
   * internal API (`backend.leadconnectorhq.com/workflow/{locationId}/{workflowId}`) does, but it is undocumented, may
   * change without notice and in production expects a user session token rather than an OAuth token. Our fake GHL
   * server simulates it.
   */
  baseUrl: string;
}

/** Definitions read from the builder backend (unofficial, see `BuilderSourceOptions.baseUrl`), through the GHL client. */
export function createBuilderDefinitionSource(options: BuilderSourceOptions): WorkflowDefinitionSource {
  const get = async (locationId: string, workflowId: string): Promise<StoredDefinition | undefined> => {
    try {
      const body = await options.client.request(locationId, {
        baseUrl: options.baseUrl,
        path: `/workflow/${encodeURIComponent(locationId)}/${encodeURIComponent(workflowId)}`,
        endpoint: 'GET /builder/workflow/:locationId/:workflowId',
      });
      const def = parseWorkflowDefinition(body);
      return def.locationId === locationId ? stored(def, 'builder') : undefined;
    } catch (error) {
      if (error instanceof GhlError && (error.code === 'GHL_NOT_CONNECTED' || error.status === 404)) return undefined;
      throw error;
    }
  };
  return {
    kind: 'builder',
    get,
    async list(locationId) {
      let workflows;
      try {
        workflows = await options.client.listWorkflows(locationId);
      } catch (error) {
        if (error instanceof GhlError && error.code === 'GHL_NOT_CONNECTED') return [];
        throw error;
      }
      const defs = await Promise.all(workflows.map((w) => get(locationId, w.id)));
      return defs.filter((d): d is StoredDefinition => d !== undefined);
    },
  };
}
