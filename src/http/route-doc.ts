// What a route tells the OpenAPI document about itself (route config `doc`): the same zod schemas
// the handler validates with (parse(schema, req.body)), so the document cannot drift from the
// validation. The generator (http/openapi.ts) reads them from the route table.
import type { ZodType } from 'zod';

export interface RouteDoc {
  summary: string;
  description?: string;
  /** grouping in the rendered reference: 'Teams', 'Keys', 'Usage', … */
  tag?: string;
  body?: ZodType;
  query?: ZodType;
  /** the success response's schema, when one is declared */
  response?: ZodType;
  /** the success status (default 200; creates are 201) */
  status?: number;
}
