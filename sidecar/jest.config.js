/** Jest for the sidecar: swc transpiles TypeScript (typechecking is `npm run typecheck`). */
module.exports = {
  testEnvironment: '<rootDir>/test/environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // the shared contract package from its sources, as the typechecker reads it (no build needed)
  moduleNameMapper: { '^@foresight/contract$': '<rootDir>/../contract/src/index.ts' },
  // Integration tests start real Prometheus/Alertmanager; give them room, not the unit tests.
  testTimeout: 20000,
  // Two cores: run test files two at a time so real-process tests do not starve each other.
  maxWorkers: 2,
  // After the last test file a worker gets 500 ms to exit before jest kills it and warns "a worker
  // process has failed to exit gracefully". On a loaded machine that warning came from workers
  // that ran two one-line tests (3 of 5 runs, niced, load 9; 0 of 5 with 5 s): starved of CPU,
  // not leaking. A worker kept alive by a real leak still gets the warning, 5 s later.
  workerGracefulExitTimeout: 5000,
};
