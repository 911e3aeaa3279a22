// The validation benchmark's server, run in a child process so the load generator does not share its event loop.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { z } from 'zod';
import { defineRoute } from '../src/index.js';
import { createApiRouter, implement } from '../src/express/index.js';

export const CreateWorkflow = z.strictObject({
  name: z.string().min(1).max(120),
  status: z.enum(['draft', 'active', 'paused']).optional(),
  steps: z
    .array(
      z.strictObject({
        type: z.enum(['send_email', 'send_sms', 'wait', 'webhook']),
        delaySeconds: z.int().min(0).max(86_400).optional(),
      }),
    )
    .max(50),
  tags: z.array(z.string().min(1).max(40)).max(20).default([]),
});

const route = (path: string, operationId: string) =>
  defineRoute({
    method: 'post',
    path,
    operationId,
    summary: 'Create a workflow',
    request: { body: CreateWorkflow },
    responses: { 201: { description: 'Created', body: CreateWorkflow } },
  });

function appWith(router: express.Router): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  return app.use(router);
}

// Baseline: what a team writes by hand, express.json() and schema.parse in the handler, in a
// Router like the @org/openapi one. Each variant has its own app and port, so none pays for
// walking past another's routes.
const manual = express.Router();
manual.post('/manual', express.json(), (req, res) => {
  let body: z.output<typeof CreateWorkflow>;
  try {
    body = CreateWorkflow.parse(req.body);
  } catch (error) {
    return void res.status(400).json({
      success: false,
      error: { code: 'VALIDATION_ERROR', message: 'Invalid body', issues: (error as z.ZodError).issues },
    });
  }
  res.status(201).json(body);
});
const off = createApiRouter({
  info: { title: 'b', version: '1' },
  responseValidation: 'off',
  docs: { enabled: false },
  routes: [implement(route('/org', 'org'), (req, res) => res.reply(201, req.body))],
});
const strict = createApiRouter({
  info: { title: 'b', version: '1' },
  responseValidation: 'strict',
  docs: { enabled: false },
  routes: [implement(route('/org-strict', 'orgStrict'), (req, res) => res.reply(201, req.body))],
});

const apps = { '/manual': appWith(manual), '/org': appWith(off.router), '/org-strict': appWith(strict.router) };
const servers = Object.values(apps).map((app) => app.listen(0, '127.0.0.1'));
Promise.all(servers.map((s) => new Promise((resolve) => s.once('listening', resolve)))).then(() => {
  const ports = Object.fromEntries(
    Object.keys(apps).map((path, i) => [path, (servers[i]!.address() as AddressInfo).port]),
  );
  process.send!({ ports });
});
process.on('message', (message: { cmd?: string }) => {
  if (message.cmd === 'cpu') process.send!({ cpu: process.cpuUsage() });
  if (message.cmd === 'stop') {
    // Exit once the servers closed, or after 2 s if a client keeps a connection open.
    setTimeout(() => process.exit(0), 2_000).unref();
    for (const s of servers) s.closeAllConnections();
    Promise.all(servers.map((s) => new Promise((r) => s.close(r)))).then(() => process.exit(0));
  }
});
