/** Base class of every error the analyzer throws: a stable `code` and the underlying `cause`. */
export class AnalysisError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem found while validating input: where (a dotted path) and what. */
export interface InputIssue {
  path: string;
  message: string;
}

/**
 * The input is not a workflow definition (or inventory) in the canonical schema. `issues` lists
 * every problem found, not only the first, so a user can fix an export in one pass.
 */
export class InvalidDefinitionError extends AnalysisError {
  readonly issues: readonly InputIssue[];
  /** What was being parsed, e.g. a file name; part of the message. */
  readonly source: string | undefined;

  constructor(
    kind: 'workflow' | 'inventory',
    issues: readonly InputIssue[],
    source?: string,
    options?: { cause?: unknown },
  ) {
    const where = source ? ` in ${source}` : '';
    const list = issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n');
    super(
      kind === 'workflow' ? 'INVALID_WORKFLOW_DEFINITION' : 'INVALID_INVENTORY',
      `Invalid ${kind === 'workflow' ? 'workflow definition' : 'location inventory'}${where} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${list}`,
      options,
    );
    this.issues = issues;
    this.source = source;
  }
}
