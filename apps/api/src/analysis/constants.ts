/**
 * Every threshold the rules use, in one place (catalog §4 notes). Durations are in minutes.
 */
export const MINUTES_PER_UNIT: Readonly<Record<string, number>> = Object.freeze({
  minute: 1,
  minutes: 1,
  hour: 60,
  hours: 60,
  day: 1440,
  days: 1440,
  week: 10_080,
  weeks: 10_080,
  // A month counts as 30 days: waits are compared against day thresholds, not calendar dates.
  month: 43_200,
  months: 43_200,
});

export const THRESHOLDS = Object.freeze({
  /** reentry.allow-multiple-nurture: total time waits at or above this make a sequence "long". */
  nurtureMinTotalWaitMinutes: 1 * 1440,
  /** exit.no-goal: total time waits at or above this. */
  noGoalMinTotalWaitMinutes: 7 * 1440,
  /** exit.no-goal: at least this many outbound messages. */
  noGoalMinOutboundMessages: 4,
  /** exit.no-response-handling: at least this many outbound messages. */
  noResponseMinOutboundMessages: 3,
  /** wait.excessive-duration: a single time wait above this. */
  excessiveWaitMinutes: 60 * 1440,
  /** timing.window-outside-tcpa-hours: the earliest allowed start hour (08:00). */
  tcpaEarliestStartHour: 8,
  /** timing.window-outside-tcpa-hours: the latest allowed end, in minutes after midnight (21:00). */
  tcpaLatestEndMinute: 21 * 60,
  /** sms.multi-segment: more segments than this fire the rule. */
  smsMaxSegments: 2,
  /** GSM-7 characters in a single-segment SMS, and per segment when concatenated. */
  gsm7SingleSegment: 160,
  gsm7ConcatSegment: 153,
  /** UCS-2 code units in a single-segment SMS, and per segment when concatenated. */
  ucs2SingleSegment: 70,
  ucs2ConcatSegment: 67,
});

/** Severity weights of the health score (catalog §5). */
export const SEVERITY_WEIGHTS = Object.freeze({ critical: 40, high: 20, medium: 8, low: 3, info: 0 });

/** With any critical finding the score is capped here (catalog §5). */
export const CRITICAL_SCORE_CAP = 40;

/** Each further finding of the same rule costs this fraction of the previous one. */
export const REPEAT_DECAY = 0.5;

/** Location score weights (catalog §5, inferred design). */
export const LOCATION_WEIGHTS = Object.freeze({ published: 1, draft: 0.25 });

/** Trigger types that need a filter (rule 10). */
export const FILTERABLE_TRIGGER_TYPES: ReadonlySet<string> = new Set([
  'form_submission',
  'customer_booked_appointment',
  'appointment',
  'pipeline_stage_updated',
  'contact_tag',
  'survey_submission',
  'contact_changed',
]);

/** Trigger types that start from a contact-level event (rule 27). */
export const CONTACT_LEVEL_TRIGGER_TYPES: ReadonlySet<string> = new Set([
  'contact_tag',
  'form_submission',
  'contact_created',
  'customer_reply',
  'inbound_webhook',
  'survey_submission',
  'contact_changed',
]);

/** Standard contact fields (rule 17); each also matches with a `contact.` prefix. */
export const STANDARD_CONTACT_FIELDS: ReadonlySet<string> = new Set([
  'first_name',
  'last_name',
  'name',
  'email',
  'phone',
  'company_name',
  'address1',
  'city',
  'state',
  'postal_code',
  'country',
  'website',
  'timezone',
  'date_of_birth',
  'source',
  'tags',
  'dnd',
  'assigned_to',
]);

/** Notification audiences that need no explicit recipient (rule 34). */
export const IMPLICIT_RECIPIENT_TYPES: ReadonlySet<string> = new Set(['all', 'assigned', 'assigned_user']);

/** Appointment statuses that make an `appointment` trigger a booking trigger (rule 13). */
export const BOOKING_STATUSES: ReadonlySet<string> = new Set(['booked', 'confirmed']);

/** Domains reserved for documentation (rule 21): the host itself or any subdomain. */
export const EXAMPLE_DOMAINS: readonly string[] = ['example.com', 'example.org', 'example.net'];

/**
 * Version of the rule set and the score formula. Bump it whenever a rule, a threshold or the
 * formula changes, so that cached analyses (keyed by workflow version) are not served stale.
 */
export const ANALYZER_VERSION = 1;
