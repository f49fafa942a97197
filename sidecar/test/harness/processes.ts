/** Child processes, free ports and polling for tests: the same helpers the benches use. */
export { freePort, startProcess, waitFor } from '../../src/processes';
export type { ManagedProcess } from '../../src/processes';
