/** Jest for the sidecar: swc transpiles TypeScript (typechecking is `npm run typecheck`). */
module.exports = {
  testEnvironment: '<rootDir>/test/environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // Integration tests start real Prometheus/Alertmanager; give them room, not the unit tests.
  testTimeout: 20000,
  // Two cores: run test files two at a time so real-process tests do not starve each other.
  maxWorkers: 2,
};
