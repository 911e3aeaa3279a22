import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeAccount, type WorkflowAnalysis } from './analyze.js';
import { InvalidDefinitionError } from './errors.js';
import { parseAccountInventory, safeParseWorkflowDefinition, type AccountInventory } from './schema.js';

/*
 * `ghl-health analyze <files or folder> [--inventory file] [--format table|json]`
 * The only file of the analyzer that does I/O. Exit codes: 0 analysed (whatever the findings),
 * 2 invalid input or usage, 1 an unexpected failure.
 */

export const USAGE = `Usage: ghl-health analyze <files or folders...> [--inventory <file>] [--format table|json]

Analyses GoHighLevel workflow definitions (canonical JSON) and prints a 0-100 health score and the
findings of each. All inputs are analysed together as one account: workflows with the same
locationId are one location (loops between workflows, duplicate triggers, enrolment of drafts).

  <folder>             every *.json in it, except expected.json and names starting with "_";
                       its _locations.json is the inventory unless --inventory is given
  --inventory <file>   custom fields, custom values, calendars, pipelines, users and forms per
                       location ({ "locations": { "<locationId>": { ... } } })
  --format table|json  table (default) or JSON: [{ file, workflowId, score, band, findings }]

Exit code 0 when every input was analysed, 2 when an input is invalid.`;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

class UsageError extends Error {}

interface Options {
  paths: string[];
  inventory: string | undefined;
  format: 'table' | 'json';
}

function parseArgs(argv: readonly string[]): Options | 'help' {
  const args = [...argv];
  if (args.includes('--help') || args.includes('-h')) return 'help';
  const command = args.shift();
  if (command !== 'analyze') throw new UsageError(command ? `unknown command "${command}"` : 'missing command');
  const options: Options = { paths: [], inventory: undefined, format: 'table' };
  while (args.length > 0) {
    const arg = args.shift()!;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    if (flag === '--inventory' || flag === '--format') {
      const value = inline ?? args.shift();
      if (!value) throw new UsageError(`${flag} needs a value`);
      if (flag === '--inventory') options.inventory = value;
      else if (value === 'table' || value === 'json') options.format = value;
      else throw new UsageError(`--format must be table or json, not "${value}"`);
    } else if (flag.startsWith('-')) {
      throw new UsageError(`unknown option "${flag}"`);
    } else {
      options.paths.push(arg);
    }
  }
  if (options.paths.length === 0) throw new UsageError('give at least one workflow file or folder');
  return options;
}

/** A folder's workflow files: *.json, not expected.json, not names starting with "_". */
export function isWorkflowFileName(name: string): boolean {
  return name.endsWith('.json') && !name.startsWith('_') && name !== 'expected.json';
}

async function readJson(path: string, problems: string[]): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    problems.push(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    problems.push(`${path}: not valid JSON (${(error as Error).message})`);
    return undefined;
  }
}

interface Inputs {
  files: { path: string; json: unknown }[];
  inventory: AccountInventory | undefined;
  /** Only whole folders are a complete account; loose files may reference workflows not given. */
  complete: boolean;
}

async function collect(options: Options, problems: string[]): Promise<Inputs> {
  const files: string[] = [];
  const inventoryFiles: string[] = options.inventory ? [options.inventory] : [];
  let complete = true;
  for (const path of options.paths) {
    let isDir: boolean;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch {
      problems.push(`${path}: no such file or folder`);
      continue;
    }
    if (!isDir) {
      complete = false;
      files.push(path);
      continue;
    }
    const names = (await readdir(path)).sort();
    const workflows = names.filter(isWorkflowFileName);
    if (workflows.length === 0) problems.push(`${path}: the folder holds no workflow files (*.json)`);
    files.push(...workflows.map((n) => join(path, n)));
    if (!options.inventory && names.includes('_locations.json')) inventoryFiles.push(join(path, '_locations.json'));
  }

  let inventory: AccountInventory | undefined;
  for (const path of inventoryFiles) {
    const json = await readJson(path, problems);
    if (json === undefined) continue;
    try {
      const parsed = parseAccountInventory(json, path);
      inventory = { ...parsed, locations: { ...inventory?.locations, ...parsed.locations } };
    } catch (error) {
      if (!(error instanceof InvalidDefinitionError)) throw error;
      problems.push(error.message);
    }
  }

  const loaded: { path: string; json: unknown }[] = [];
  for (const path of files) {
    const json = await readJson(path, problems);
    if (json === undefined) continue;
    const result = safeParseWorkflowDefinition(json);
    if (!result.ok) {
      problems.push(new InvalidDefinitionError('workflow', result.issues, path).message);
      continue;
    }
    loaded.push({ path, json });
  }
  return { files: loaded, inventory, complete };
}

interface FileResult {
  file: string;
  workflowId: string;
  score: number;
  band: string;
  findings: { ruleId: string; severity: string; stepId: string | null; message: string; fix: string }[];
}

function toFileResult(file: string, analysis: WorkflowAnalysis): FileResult {
  return {
    file,
    workflowId: analysis.workflowId,
    score: analysis.score,
    band: analysis.band,
    findings: analysis.findings.map((f) => ({
      ruleId: f.ruleId,
      severity: f.severity,
      stepId: f.stepId ?? null,
      message: f.message,
      fix: f.fix,
    })),
  };
}

function renderTable(
  results: readonly FileResult[],
  analyses: readonly WorkflowAnalysis[],
  locations: ReturnType<typeof analyzeAccount>['locations'],
  hasInventory: boolean,
): string {
  const lines: string[] = [];
  results.forEach((r, i) => {
    const a = analyses[i]!;
    lines.push(`${r.file}  ${String(r.score).padStart(3)}/100  ${r.band}  "${a.name}" (${a.status})`);
    if (r.findings.length === 0) lines.push('    no findings');
    for (const f of r.findings) {
      lines.push(`    ${f.severity.padEnd(8)} ${f.ruleId.padEnd(34)} ${f.stepId ? `step ${f.stepId}` : ''}`.trimEnd());
      lines.push(`             ${f.message}`);
      lines.push(`             fix: ${f.fix}`);
    }
    lines.push('');
  });
  lines.push('Locations:');
  for (const l of locations)
    lines.push(
      `  ${l.locationId}  ${l.score === null ? '  -' : String(l.score).padStart(3)}/100  ${l.band ?? ''}  (${l.workflows.length} workflow${l.workflows.length === 1 ? '' : 's'})`,
    );
  if (!hasInventory)
    lines.push(
      '',
      'No inventory given: checks of custom fields, custom values, calendars, pipelines, users and forms were skipped.',
    );
  return lines.join('\n');
}

/** Runs the CLI; returns the exit code. */
export async function main(
  argv: readonly string[],
  io: CliIo = { stdout: (t) => process.stdout.write(`${t}\n`), stderr: (t) => process.stderr.write(`${t}\n`) },
): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`ghl-health: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    io.stdout(USAGE);
    return 0;
  }

  const problems: string[] = [];
  const inputs = await collect(options, problems);
  if (problems.length > 0) {
    io.stderr(
      `ghl-health: invalid input, nothing analysed:\n${problems.map((p) => p.replace(/^/gm, '  ')).join('\n')}`,
    );
    return 2;
  }

  const result = analyzeAccount(
    inputs.files.map((f) => f.json),
    { ...(inputs.inventory ? { inventory: inputs.inventory } : {}), workflowsComplete: inputs.complete },
  );
  const files = inputs.files.map((f, i) => toFileResult(f.path, result.workflows[i]!));
  io.stdout(
    options.format === 'json'
      ? JSON.stringify(files, null, 2)
      : renderTable(files, result.workflows, result.locations, inputs.inventory !== undefined),
  );
  return 0;
}

/** Runs `main` as a process entry point: its exit code, or 1 with the error on stderr when it throws. */
export function runCli(argv: readonly string[] = process.argv.slice(2)): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error('ghl-health: unexpected failure:', error);
      process.exitCode = 1;
    },
  );
}
