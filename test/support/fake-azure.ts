// The fake upstream's Azure OpenAI, in its real wire format
// (https://learn.microsoft.com/azure/ai-foundry/openai/reference):
//   POST /openai/deployments/{deployment}/chat/completions|completions|embeddings?api-version=…
//   POST /openai/v1/responses (the v1 API: no api-version; `model` is the deployment name)
//   GET  /openai/v1/models (the v1 API's model list)
// The key comes in an `api-key` header. Answers are OpenAI's (the deployment's model answers);
// errors are OpenAI-shaped with Azure's codes ({"error":{"code":"DeploymentNotFound","message":…}}).
// A missing api-version is Azure's 404 "Resource not found"; a malformed one its 400.
// The deployment named `missing-deployment` does not exist.
import type { FakeRoute } from './fake-upstream.ts';
import { embeddings, openaiGenerate } from './fake-upstream.ts';
import { promptTokens, send } from './fake-kit.ts';
import type { Ctx } from './fake-kit.ts';
import { responsesRoutes } from './fake-openai-responses.ts';

const DEPLOYMENT = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings)$/;
const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

function azureCode(status: number): string {
  if (status === 401) return '401';
  if (status === 404) return 'DeploymentNotFound';
  if (status === 429) return '429';
  if (status >= 500) return 'InternalServerError';
  return 'BadRequest';
}

function azureError(ctx: Ctx, status: number, message: string): void {
  const msg = status === 401 ? 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.' : message;
  send(ctx, status, { error: { code: azureCode(status), message: msg } });
}

function deployments(ctx: Ctx, path: string): Promise<void> | void {
  const m = DEPLOYMENT.exec(path)!;
  const version = new URL(ctx.req.url ?? '/', 'http://x').searchParams.get('api-version');
  if (version === null) return send(ctx, 404, { error: { code: '404', message: 'Resource not found' } });
  if (!API_VERSION.test(version)) return azureError(ctx, 400, `Unsupported api-version '${version}'`);
  const deployment = decodeURIComponent(m[1]!);
  if (deployment === 'missing-deployment') return azureError(ctx, 404, 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.');
  // The deployment decides the model; whatever `model` the body names is ignored (as on Azure).
  ctx.model = deployment;
  const b = ctx.body ?? {};
  if (m[2] === 'embeddings') return embeddings(ctx);
  if (m[2] === 'completions') {
    const prompts = Array.isArray(b.prompt) ? b.prompt : [b.prompt ?? ''];
    return openaiGenerate(ctx, promptTokens(prompts.map((p: unknown) => ({ content: String(p) }))), true);
  }
  if (!Array.isArray(b.messages)) return azureError(ctx, 400, "'messages' is a required property");
  return openaiGenerate(ctx, promptTokens(b.messages), false);
}

const apiKey = (req: { headers: Record<string, string | string[] | undefined> }, key: string) => req.headers['api-key'] === key;

export const azureRoutes: FakeRoute[] = [
  {
    // the v1 API's model list: what the resource can deploy
    matches: (method, path) => method === 'GET' && path === '/openai/v1/models',
    authorized: apiKey,
    error: azureError,
    handle: (ctx) => send(ctx, 200, { object: 'list', data: ['gpt-4o', 'gpt-4.1', 'text-embedding-3-small'].map((id) => ({ id, object: 'model', created_at: 1715367049, lifecycle_status: 'generally-available', status: 'succeeded' })) }),
  },
  {
    matches: (method, path) => method === 'POST' && DEPLOYMENT.test(path),
    authorized: apiKey,
    error: azureError,
    handle: (ctx, _method, path) => deployments(ctx, path),
  },
  {
    matches: (method, path) => method === 'POST' && path === '/openai/v1/responses',
    authorized: apiKey,
    error: azureError,
    handle: (ctx, method) => responsesRoutes[0]!.handle(ctx, method, '/v1/responses'),
  },
];
