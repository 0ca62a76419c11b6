// Prometheus metrics (served at GET /metrics, metrics.routes.ts). Every series is documented in
// docs/observability.md ("Metrics"), with the LiteLLM and OpenTelemetry GenAI names it maps to.
//
// Two kinds of source:
// - request(row): called once per /v1 request, refused or not, with the row it logs
//   (proxy/pipeline.ts enqueueLog). It adds into cells (metric-cells.ts) found through Maps keyed
//   by team id, model, status: no string is built and nothing allocated once a series exists.
// - collect callbacks, run at scrape (metric-collectors.ts): log queue, key cache, requests in
//   flight, the database and Redis (pinged), remaining budgets (read from the database, cached).
//
// Label values are bounded: at most `teamLimit` teams and `modelLimit` models get their own value,
// the first ones seen (per process); the rest share 'other'. A model gets its own value only once
// a request for it reached a provider, so clients inventing model names cannot use up the slots.
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Deps } from '../deps.ts';
import type { LogRow } from '../usage/log-writer.ts';
import { CellCounter, CellHistogram, observe, type CounterCell, type HistogramCell } from './metric-cells.ts';
import { registerCollectors } from './metric-collectors.ts';

export interface MetricsConfig {
  /** a bearer token GET /metrics requires (unset: open) */
  token: string | undefined;
  /** teams with their own label value; the others are 'other' */
  teamLimit: number;
  /** models with their own label value; the others are 'other' */
  modelLimit: number;
  /** remaining-budget series per kind (teams, keys), at most */
  budgetSeries: number;
  /** how long a reading of the budgets is reused (ms) */
  budgetCacheMs: number;
}

/** What the scrape-time collectors read (the runtime's deps, once they exist). */
export type MetricSources = Pick<Deps, 'db' | 'clock' | 'logWriter' | 'keyCache' | 'inFlight' | 'counters' | 'invalidator' | 'config'>;

const OTHER = 'other';
const NONE = 'none';

// OpenTelemetry GenAI semantic conventions: the advised bucket boundaries of each metric.
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
// Tollgate's own work per request is well under a millisecond; logged times are whole ms.
const OVERHEAD_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

const OPERATION: Record<string, string> = {
  'chat/completions': 'chat', completions: 'text_completion', embeddings: 'embeddings', responses: 'chat', messages: 'chat', 'messages/count_tokens': 'count_tokens', generateContent: 'generate_content',
};

/** The counters of one (team, model). */
interface TeamModel {
  team: string;
  model: string;
  /** by HTTP status */
  requests: Map<number, CounterCell>;
  input: CounterCell;
  output: CounterCell;
  cached: CounterCell;
  reasoning: CounterCell;
  spendMicro: CounterCell;
  unpriced: CounterCell;
}

/** The histograms of one (model, operation, provider): requests that reached a provider. */
interface Upstream {
  inputTokens: HistogramCell;
  outputTokens: HistogramCell;
  duration: HistogramCell;
  ttft: HistogramCell;
  /** shared by every cell of the model */
  overhead: HistogramCell;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly cfg: MetricsConfig;

  private readonly teamLabels = new Map<number, string>();
  private readonly modelLabels = new Map<string, string>();
  private readonly teamModels = new Map<string, Map<string, TeamModel>>();
  private readonly upstreams = new Map<string, Map<string, Map<string, Upstream>>>();
  private readonly overheads = new Map<string, HistogramCell>();
  private readonly refusalCells = new Map<string, Map<string, Map<string, CounterCell>>>();

  private readonly requests: CellCounter;
  private readonly tokens: CellCounter;
  private readonly spend: CellCounter;
  private readonly unpriced: CellCounter;
  private readonly refusals: CellCounter;
  private readonly tokenUsage: CellHistogram;
  private readonly duration: CellHistogram;
  private readonly ttft: CellHistogram;
  private readonly overhead: CellHistogram;

  constructor(cfg: MetricsConfig, sources: () => MetricSources) {
    this.cfg = cfg;
    const r = this.registry;
    this.requests = new CellCounter(r, { name: 'tollgate_requests_total', help: '/v1 requests answered, by team, model and HTTP status (refusals included)', labelNames: ['team', 'model', 'status_code', 'status_class'] });
    this.tokens = new CellCounter(r, { name: 'tollgate_tokens_total', help: 'Tokens metered, by team, model and type (input, output; cached is part of input, reasoning part of output)', labelNames: ['team', 'model', 'type'] });
    this.spend = new CellCounter(r, { name: 'tollgate_spend_usd_total', help: 'Spend in USD, by team and model (unpriced requests count 0 here: see tollgate_unpriced_requests_total)', labelNames: ['team', 'model'] }, 1e6);
    this.unpriced = new CellCounter(r, { name: 'tollgate_unpriced_requests_total', help: 'Requests metered for a model with no known price', labelNames: ['team', 'model'] });
    this.refusals = new CellCounter(r, { name: 'tollgate_admission_refusals_total', help: 'Requests refused by admission (rate limits, concurrency, budgets), by the refusing level and code', labelNames: ['team', 'code', 'level'] });
    const genAi = ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model'];
    this.tokenUsage = new CellHistogram(r, { name: 'gen_ai_client_token_usage', help: 'Tokens per request that reached a provider (OpenTelemetry gen_ai.client.token.usage)', labelNames: [...genAi, 'gen_ai_token_type'] }, TOKEN_BUCKETS);
    this.duration = new CellHistogram(r, { name: 'gen_ai_client_operation_duration_seconds', help: 'Upstream time of a request: from sending it to the provider to the end of its answer (OpenTelemetry gen_ai.client.operation.duration)', labelNames: genAi }, DURATION_BUCKETS);
    this.ttft = new CellHistogram(r, { name: 'gen_ai_server_time_to_first_token_seconds', help: 'Streamed requests: from sending to the provider to its first event (OpenTelemetry gen_ai.server.time_to_first_token)', labelNames: genAi }, TTFT_BUCKETS);
    this.overhead = new CellHistogram(r, { name: 'tollgate_overhead_latency_seconds', help: "Tollgate's own time per request that reached a provider: total latency minus upstream time", labelNames: ['model'] }, OVERHEAD_BUCKETS);
    registerCollectors(r, sources, cfg);
    collectDefaultMetrics({ register: r });
  }

  /**
   * Records one /v1 request from its log row; `level` is the level of an admission refusal (key,
   * member, team, org …). Hot path: Map lookups and additions once the series exist.
   */
  request(row: LogRow, level: string | null = null): void {
    const team = this.teamLabel(row.team_id ?? null);
    const provider = row.provider ?? null;
    const model = this.modelLabel(row.model, provider);
    const tm = this.teamModel(team, model);
    const status = row.status_code;
    let requests = tm.requests.get(status);
    if (requests === undefined) {
      requests = this.requests.cell({ team, model, status_code: String(status), status_class: `${Math.floor(status / 100)}xx` });
      tm.requests.set(status, requests);
    }
    requests.value++;
    const input = row.tokens_in ?? 0;
    const output = row.tokens_out ?? 0;
    tm.input.value += input;
    tm.output.value += output;
    tm.cached.value += row.cached_tokens ?? 0;
    tm.reasoning.value += row.reasoning_tokens ?? 0;
    tm.spendMicro.value += row.cost_micro ?? 0;
    if (row.unpriced) tm.unpriced.value++;
    if (level !== null) this.refusal(team, row.error_code ?? 'unknown', level).value++;
    if (provider === null) return;

    const up = this.upstream(model, row.endpoint, provider);
    if (status < 400) {
      observe(up.inputTokens, input);
      observe(up.outputTokens, output);
    }
    const upstreamMs = row.upstream_ms ?? null;
    if (upstreamMs === null) return;
    observe(up.duration, upstreamMs / 1000);
    const ttfb = row.ttfb_ms ?? null;
    if (row.streamed && ttfb !== null && status < 400) observe(up.ttft, ttfb / 1000);
    // Both are whole milliseconds, each rounded: a difference of -1 is 0.
    observe(up.overhead, Math.max(0, (row.latency_ms ?? 0) - upstreamMs) / 1000);
  }

  /** The exposition text of every series (Prometheus text format). */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private teamLabel(id: number | null): string {
    if (id === null) return NONE;
    const known = this.teamLabels.get(id);
    if (known !== undefined) return known;
    if (this.teamLabels.size >= this.cfg.teamLimit) return OTHER;
    const label = String(id);
    this.teamLabels.set(id, label);
    return label;
  }

  private modelLabel(model: string, provider: string | null): string {
    if (model === '') return NONE;
    const known = this.modelLabels.get(model);
    if (known !== undefined) return known;
    if (provider === null || this.modelLabels.size >= this.cfg.modelLimit) return OTHER;
    this.modelLabels.set(model, model);
    return model;
  }

  private teamModel(team: string, model: string): TeamModel {
    let byModel = this.teamModels.get(team);
    if (byModel === undefined) this.teamModels.set(team, (byModel = new Map()));
    let tm = byModel.get(model);
    if (tm === undefined) byModel.set(model, (tm = this.newTeamModel(team, model)));
    return tm;
  }

  // Apart from teamModel(): a closure there would make V8 allocate a context on every call.
  private newTeamModel(team: string, model: string): TeamModel {
    const tokens = (type: string) => this.tokens.cell({ team, model, type });
    return {
      team, model, requests: new Map(),
      input: tokens('input'), output: tokens('output'), cached: tokens('cached'), reasoning: tokens('reasoning'),
      spendMicro: this.spend.cell({ team, model }), unpriced: this.unpriced.cell({ team, model }),
    };
  }

  private upstream(model: string, endpoint: string, provider: string): Upstream {
    let byEndpoint = this.upstreams.get(model);
    if (byEndpoint === undefined) this.upstreams.set(model, (byEndpoint = new Map()));
    let byProvider = byEndpoint.get(endpoint);
    if (byProvider === undefined) byEndpoint.set(endpoint, (byProvider = new Map()));
    let up = byProvider.get(provider);
    if (up === undefined) {
      const labels = { gen_ai_operation_name: OPERATION[endpoint] ?? endpoint, gen_ai_provider_name: provider, gen_ai_request_model: model };
      let overhead = this.overheads.get(model);
      if (overhead === undefined) this.overheads.set(model, (overhead = this.overhead.cell({ model })));
      up = {
        inputTokens: this.tokenUsage.cell({ ...labels, gen_ai_token_type: 'input' }),
        outputTokens: this.tokenUsage.cell({ ...labels, gen_ai_token_type: 'output' }),
        duration: this.duration.cell(labels),
        ttft: this.ttft.cell(labels),
        overhead,
      };
      byProvider.set(provider, up);
    }
    return up;
  }

  private refusal(team: string, code: string, level: string): CounterCell {
    let byCode = this.refusalCells.get(team);
    if (byCode === undefined) this.refusalCells.set(team, (byCode = new Map()));
    let byLevel = byCode.get(code);
    if (byLevel === undefined) byCode.set(code, (byLevel = new Map()));
    let cell = byLevel.get(level);
    if (cell === undefined) byLevel.set(level, (cell = this.refusals.cell({ team, code, level })));
    return cell;
  }
}
