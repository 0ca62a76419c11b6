// Mistral's API refuses fields it does not know (422 extra_forbidden) and reports usage on the
// last chunk of every stream anyway: so no `stream_options` is added (one the client sent is
// removed), and the usage chunk, which also carries the finish_reason, is relayed as it comes.
import type { Exchange, ExchangeInput } from '../types.ts';
import { OpenAICompatibleAdapter } from '../openai-compatible/adapter.ts';
import { OpenAIStreamMeter, usageFromResponse } from '../openai-compatible/usage.ts';

export class MistralAdapter extends OpenAICompatibleAdapter {
  constructor() {
    super('mistral');
  }

  protected override passthrough(input: ExchangeInput): Exchange {
    const { route, stream, body } = input;
    let sent: string | Buffer = input.raw;
    if (body.model !== route.upstreamModel || 'stream_options' in body) {
      const { stream_options: _dropped, ...rest } = body;
      sent = JSON.stringify({ ...rest, model: route.upstreamModel });
    }
    return {
      path: this.path(input.endpoint, route), headers: this.headers(route), body: sent, stream,
      meter: new OpenAIStreamMeter(false, input.promptEstimate),
      mapJson: (buf) => ({ body: buf, usage: usageFromResponse(buf) }),
    };
  }
}
