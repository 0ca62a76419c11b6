// The counter-store contract, for each implementation.
import { counterStoreContract } from './support/counter-store-contract.ts';
import { MemoryCounterStore } from '../src/policy/memory-store.ts';

counterStoreContract('memory', async () => new MemoryCounterStore());
