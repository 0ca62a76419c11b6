// An HTTP status as text and color (the text carries the meaning; color only helps).
import { Badge } from '../components/ui.tsx';

export function StatusCode({ code }: { code: number }) {
  const tone = code < 300 ? 'good' : code === 429 ? 'warn' : code < 500 ? 'warn' : 'bad';
  return <Badge tone={tone}>{code}</Badge>;
}
