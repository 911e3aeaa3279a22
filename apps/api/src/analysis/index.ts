/**
 * GHL workflow health analyzer: pure functions over GHL's workflow definition shape (no I/O, no
 * clock, no framework), so it can be published as its own package later.
 */
export {
  analyzeAccount,
  analyzeLocation,
  analyzeParsed,
  analyzeWorkflow,
  type AccountAnalysis,
  type AnalyzeAccountOptions,
  type AnalyzeLocationInput,
  type AnalyzeWorkflowOptions,
  type Finding,
  type LocationAnalysis,
  type WorkflowAnalysis,
} from './analyze.js';
export { AnalysisError, InvalidDefinitionError, type InputIssue } from './errors.js';
export {
  createLocationContext,
  type LocationContext,
  type LocationContextInput,
  type WorkflowSummary,
} from './location.js';
export { RULES, RULES_BY_ID, type Granularity, type Rule, type Scope, type Severity } from './rules/index.js';
export {
  accountInventorySchema,
  locationInventorySchema,
  parseAccountInventory,
  parseWorkflowDefinition,
  safeParseWorkflowDefinition,
  workflowDefinitionSchema,
  workflowIdOf,
  type AccountInventory,
  type LocationInventory,
  type Step,
  type Trigger,
  type WorkflowDefinition,
} from './schema.js';
export { healthScore, locationScore, scoreBand, type Band } from './score.js';
export { ANALYZER_VERSION, CRITICAL_SCORE_CAP, LOCATION_WEIGHTS, SEVERITY_WEIGHTS, THRESHOLDS } from './constants.js';
