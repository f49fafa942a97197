// force timezone to UTC so tests do not depend on the machine's zone
process.env.TZ = 'UTC';

const base = require('./.config/jest.config');

// d3 ships .mjs files that jest must transform too (the Grafana scaffold's default config misses them)
const transform = { ...base.transform, '^.+\\.mjs$': base.transform['^.+\\.(t|j)sx?$'] };
// the shared contract package from its sources, as webpack and the typechecker read it (no build needed)
const moduleNameMapper = { ...base.moduleNameMapper, '^@foresight/contract$': '<rootDir>/../contract/src/index.ts' };

module.exports = {
  // browser tests drive Chromium on the built dist/ and start processes: give them room
  testTimeout: 120000,
  maxWorkers: 1,
  projects: [
    // prepare functions and components: jsdom, as the scaffold sets up
    { ...base, transform, moduleNameMapper, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.test.{ts,tsx}'] },
    // real Chromium through playwright-core, from node
    { ...base, transform, moduleNameMapper, displayName: 'browser', testEnvironment: 'node', setupFilesAfterEnv: [], testMatch: ['<rootDir>/tests/**/*.test.ts'] },
  ],
};
