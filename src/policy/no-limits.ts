// Admission when no limits engine is configured: admits everything. Used only by unit tests of
// the pipeline that are not about limits; the app wires policy/engine.ts.
import type { Admission, AdmissionOutcome } from './admission.ts';

const ticket = { settle() {} };

export const noLimits: Admission = {
  async admit(): Promise<AdmissionOutcome> {
    return { ok: true, ticket, headers: {} };
  },
};
