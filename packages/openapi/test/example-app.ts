// The reference example: three resources, cookie + bearer security, both mounts, docs. Tests, the
// linters, the browser test, the generated client and the fuzzer all run against this app.
import { randomUUID } from 'node:crypto';
import express, { type Express, type Request } from 'express';
import { z } from 'zod';
import { bearerAuth, cookieAuth, defineRoute, type OpenApiVersion, type SecurityRequirement } from '../src/index.js';
import {
  apiErrorHandler,
  createApiRouter,
  implement,
  type ApiRouter,
  type ResponseValidationMode,
} from '../src/express/index.js';

export const SESSION_COOKIE = 'sid';
export const VALID_SESSION = 'session-0123456789abcdef';
export const VALID_API_KEY = 'key_live_0123456789abcdef';

const Id = z.uuid().meta({ description: 'Resource id (UUID).', example: '3f1c2a9e-8f4b-4c1d-9a7e-2b5d6c7e8f90' });
const Timestamp = z.iso
  .datetime()
  .meta({ description: 'ISO 8601 date-time, UTC.', example: '2026-11-26T00:00:00.000Z' });

export const WorkflowStatus = z
  .enum(['draft', 'active', 'paused'])
  .meta({ id: 'WorkflowStatus', description: 'Lifecycle state of a workflow.' });
export const Step = z
  .strictObject({
    type: z.enum(['send_email', 'send_sms', 'wait', 'webhook']).meta({ description: 'What the step does.' }),
    delaySeconds: z.int().min(0).max(86_400).optional().meta({ description: 'Delay before the step runs.' }),
  })
  .meta({ id: 'Step', description: 'One step of a workflow.' });
export const Workflow = z
  .object({
    id: Id,
    name: z.string().min(1).max(120),
    status: WorkflowStatus,
    steps: z.array(Step).max(50),
    createdAt: Timestamp,
  })
  .meta({
    id: 'Workflow',
    description: 'An automation workflow.',
    example: {
      id: '3f1c2a9e-8f4b-4c1d-9a7e-2b5d6c7e8f90',
      name: 'Welcome series',
      status: 'active',
      steps: [{ type: 'send_email' }],
      createdAt: '2026-11-26T00:00:00.000Z',
    },
  });
export const CreateWorkflow = z
  .strictObject({
    name: z.string().min(1).max(120).meta({ description: 'Display name.' }),
    status: WorkflowStatus.optional(),
    steps: z.array(Step).max(50),
  })
  .meta({
    id: 'CreateWorkflow',
    description: 'Fields of a new workflow; unknown fields are rejected.',
    example: { name: 'Welcome series', steps: [{ type: 'send_email' }, { type: 'wait', delaySeconds: 3600 }] },
  });
export const WorkflowList = z
  .object({
    items: z.array(Workflow),
    nextCursor: z.string().nullable().meta({ description: 'Cursor of the next page, or null on the last page.' }),
  })
  .meta({ id: 'WorkflowList', description: 'One page of workflows.', example: { items: [], nextCursor: null } });

export const Contact = z
  .object({
    id: Id,
    email: z.email(),
    name: z.string().min(1).max(200),
    tags: z.array(z.string().min(1).max(40)).max(20),
  })
  .meta({
    id: 'Contact',
    description: 'A contact of the location.',
    example: { id: '3f1c2a9e-8f4b-4c1d-9a7e-2b5d6c7e8f90', email: 'ann@example.com', name: 'Ann', tags: ['vip'] },
  });
export const CreateContact = z
  .strictObject({
    email: z.email(),
    name: z.string().min(1).max(200),
    tags: z.array(z.string().min(1).max(40)).max(20).default([]),
  })
  .meta({
    id: 'CreateContact',
    description: 'Fields of a new contact; unknown fields are rejected.',
    example: { email: 'ann@example.com', name: 'Ann' },
  });

const Status = z
  .object({ status: z.literal('ok'), version: z.string() })
  .meta({ id: 'Status', description: 'Service status.', example: { status: 'ok', version: '1.0.0' } });

const authenticated: SecurityRequirement[] = [{ session: [] }, { apiKey: [] }];
const rateLimit = { 'x-rate-limit': { policy: 'default', limit: 100, windowSeconds: 60 } };

export const routes = {
  getStatus: defineRoute({
    method: 'get',
    path: '/status',
    operationId: 'getStatus',
    summary: 'Service status',
    description: 'Public liveness endpoint; needs no authentication.',
    tags: ['status'],
    security: [],
    responses: { 200: { description: 'The service is up.', body: Status } },
  }),
  listWorkflows: defineRoute({
    method: 'get',
    path: '/workflows',
    operationId: 'listWorkflows',
    summary: 'List workflows',
    description: 'Lists the workflows of the caller, newest first, filtered by status.',
    tags: ['workflows'],
    request: {
      query: z.strictObject({
        status: WorkflowStatus.optional(),
        limit: z.coerce.number().int().min(1).max(100).default(20).meta({ description: 'Page size.', example: 20 }),
        cursor: z.string().max(200).optional().meta({ description: 'Cursor from the previous page.' }),
      }),
    },
    responses: { 200: { description: 'One page of workflows.', body: WorkflowList } },
    extensions: rateLimit,
  }),
  getWorkflow: defineRoute({
    method: 'get',
    path: '/workflows/:id',
    operationId: 'getWorkflow',
    summary: 'Get a workflow',
    description: 'Returns one workflow by id.',
    tags: ['workflows'],
    request: { params: z.object({ id: Id }) },
    responses: { 200: { description: 'The workflow.', body: Workflow } },
    extensions: rateLimit,
  }),
  createWorkflow: defineRoute({
    method: 'post',
    path: '/workflows',
    operationId: 'createWorkflow',
    summary: 'Create a workflow',
    description: 'Creates a workflow; a name already in use gives 409.',
    tags: ['workflows'],
    request: { body: CreateWorkflow },
    responses: { 201: { description: 'The created workflow.', body: Workflow } },
    errors: [409],
    extensions: rateLimit,
  }),
  listContacts: defineRoute({
    method: 'get',
    path: '/contacts',
    operationId: 'listContacts',
    summary: 'List contacts',
    description: 'Lists contacts, optionally filtered by tag or exact email.',
    tags: ['contacts'],
    request: {
      query: z.strictObject({
        tag: z.string().min(1).max(40).optional().meta({ description: 'Only contacts with this tag.' }),
        email: z.email().optional().meta({ description: 'Only the contact with this email.' }),
      }),
    },
    responses: {
      200: {
        description: 'Matching contacts.',
        body: z.object({ items: z.array(Contact) }).meta({ id: 'ContactList', description: 'Contacts.' }),
      },
    },
  }),
  getContact: defineRoute({
    method: 'get',
    path: '/contacts/:id',
    operationId: 'getContact',
    summary: 'Get a contact',
    description: 'Returns one contact by id.',
    tags: ['contacts'],
    request: { params: z.object({ id: Id }) },
    responses: { 200: { description: 'The contact.', body: Contact } },
  }),
  createContact: defineRoute({
    method: 'post',
    path: '/contacts',
    operationId: 'createContact',
    summary: 'Create a contact',
    description: 'Creates a contact. Requires an API key (not a session); an email already in use gives 409.',
    tags: ['contacts'],
    security: [{ apiKey: [] }],
    request: {
      body: CreateContact,
      headers: z.object({
        'Idempotency-Key': z.string().min(8).max(64).optional().meta({ description: 'Makes retries safe.' }),
      }),
    },
    responses: {
      201: { description: 'The created contact.', body: Contact },
      200: { description: 'A replay of an earlier request with the same Idempotency-Key.', body: Contact },
    },
    errors: [409],
  }),
};

type WorkflowT = z.output<typeof Workflow>;
type ContactT = z.output<typeof Contact>;

export interface ExampleOptions {
  openapi?: OpenApiVersion;
  responseValidation?: ResponseValidationMode;
  docs?: boolean;
  /** Make getStatus return an invalid body, to test response validation. */
  breakStatus?: boolean;
}

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

export function createExampleApp(options: ExampleOptions = {}): {
  app: Express;
  api: ApiRouter;
  workflows: Map<string, WorkflowT>;
  contacts: Map<string, ContactT>;
} {
  const workflows = new Map<string, WorkflowT>();
  const contacts = new Map<string, ContactT>();
  const seed: WorkflowT = {
    id: '3f1c2a9e-8f4b-4c1d-9a7e-2b5d6c7e8f90',
    name: 'Welcome series',
    status: 'active',
    steps: [{ type: 'send_email' }],
    createdAt: '2026-11-26T00:00:00.000Z',
  };
  workflows.set(seed.id, seed);
  const idempotency = new Map<string, ContactT>();

  const api = createApiRouter({
    info: {
      title: 'Example API',
      version: '1.0.0',
      description: 'Reference example of @org/openapi: workflows and contacts.',
      contact: { name: 'API team', email: 'api@example.org' },
      license: { name: 'MIT', identifier: 'MIT' },
    },
    openapi: options.openapi ?? '3.1.0',
    servers: [
      { url: '/api', description: 'Canonical path.' },
      { url: '/v1/api', description: 'Versioned alias of the same routes.' },
    ],
    securitySchemes: { session: cookieAuth(SESSION_COOKIE), apiKey: bearerAuth() },
    security: authenticated,
    securityHandlers: {
      session: (req) => cookie(req, SESSION_COOKIE) === VALID_SESSION,
      apiKey: (req) => req.headers.authorization === `Bearer ${VALID_API_KEY}`,
    },
    tags: [
      { name: 'status', description: 'Service health.' },
      { name: 'workflows', description: 'Automation workflows.' },
      { name: 'contacts', description: 'Contacts of a location.' },
    ],
    responseValidation: options.responseValidation ?? 'strict',
    docs: { enabled: options.docs ?? true },
    logger: { error: () => undefined },
    routes: [
      implement(routes.getStatus, (_req, res) => {
        if (options.breakStatus) return res.json({ status: 'broken', version: 1 });
        res.reply(200, { status: 'ok', version: '1.0.0' });
      }),
      implement(routes.listWorkflows, (req, res) => {
        const { status, limit, cursor } = req.query;
        const all = [...workflows.values()]
          .filter((w) => !status || w.status === status)
          .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
        const start = cursor ? Math.max(0, all.findIndex((w) => w.id === cursor) + 1) : 0;
        const items = all.slice(start, start + limit);
        res.reply(200, { items, nextCursor: start + limit < all.length ? (items.at(-1)?.id ?? null) : null });
      }),
      implement(routes.getWorkflow, (req, res) => {
        const workflow = workflows.get(req.params.id);
        if (!workflow)
          return res.status(404).json({ success: false, error: { code: 'NOT_FOUND', message: 'Workflow not found' } });
        res.reply(200, workflow);
      }),
      implement(routes.createWorkflow, (req, res) => {
        if ([...workflows.values()].some((w) => w.name === req.body.name)) {
          return res
            .status(409)
            .json({ success: false, error: { code: 'CONFLICT', message: 'A workflow with this name exists' } });
        }
        const workflow: WorkflowT = {
          id: randomUUID(),
          name: req.body.name,
          status: req.body.status ?? 'draft',
          steps: req.body.steps,
          createdAt: new Date().toISOString(),
        };
        workflows.set(workflow.id, workflow);
        res.reply(201, workflow);
      }),
      implement(routes.listContacts, (req, res) => {
        const { tag, email } = req.query;
        res.reply(200, {
          items: [...contacts.values()].filter((c) => (!tag || c.tags.includes(tag)) && (!email || c.email === email)),
        });
      }),
      implement(routes.getContact, (req, res) => {
        const contact = contacts.get(req.params.id);
        if (!contact)
          return res.status(404).json({ success: false, error: { code: 'NOT_FOUND', message: 'Contact not found' } });
        res.reply(200, contact);
      }),
      implement(routes.createContact, (req, res) => {
        const key = req.parsedHeaders['Idempotency-Key'];
        const replay = key ? idempotency.get(key) : undefined;
        if (replay) return res.reply(200, replay);
        if ([...contacts.values()].some((c) => c.email === req.body.email)) {
          return res
            .status(409)
            .json({ success: false, error: { code: 'CONFLICT', message: 'A contact with this email exists' } });
        }
        const contact: ContactT = { id: randomUUID(), ...req.body };
        contacts.set(contact.id, contact);
        if (key) idempotency.set(key, contact);
        res.reply(201, contact);
      }),
    ],
  });

  const app = express();
  app.disable('x-powered-by');
  app.use('/api', api.router);
  app.use('/v1/api', api.router);
  app.use(api.docsRouter);
  app.use((req, res) => {
    res
      .status(404)
      .json({ success: false, error: { code: 'NOT_FOUND', message: `No route for ${req.method} ${req.path}` } });
  });
  app.use(apiErrorHandler({ onUnexpected: () => undefined }));
  return { app, api, workflows, contacts };
}
