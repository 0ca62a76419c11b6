// Preloaded into Tollgate by `bench/run.ts --profile=alloc` (node --import): samples every
// allocation site, including objects the garbage collector has already freed (which is what the
// GC tail is made of; --heap-prof keeps only what is still alive), and writes a .heapprofile to
// TOLLGATE_ALLOC_PROFILE when the process is asked to stop.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const out = process.env.TOLLGATE_ALLOC_PROFILE;
if (!out) throw new Error('TOLLGATE_ALLOC_PROFILE: the file to write the allocation profile to is required');

const session = new Session();
session.connect();
session.post('HeapProfiler.enable');
session.post('HeapProfiler.startSampling', {
  samplingInterval: 4096,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});

// SIGUSR2 marks the start of the measured load: everything sampled before (start-up, warm-up) is dropped.
process.on('SIGUSR2', () => {
  session.post('HeapProfiler.stopSampling', () => {
    session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  });
});

process.prependListener('SIGTERM', () => {
  session.post('HeapProfiler.stopSampling', (err, result) => {
    if (err) throw err;
    writeFileSync(out, JSON.stringify(result.profile));
  });
});
