// force timezone to UTC so tests do not depend on the machine's zone
process.env.TZ = 'UTC';

const base = require('./.config/jest.config');

// d3 ships .mjs files that jest must transform too (the Grafana scaffold's default config misses them)
const transform = { ...base.transform, '^.+\\.mjs$': base.transform['^.+\\.(t|j)sx?$'] };

module.exports = {
  // browser tests drive Chromium on the built dist/ and start processes: give them room
  testTimeout: 120000,
  maxWorkers: 1,
  projects: [
    // prepare functions and components: jsdom, as the scaffold sets up
    { ...base, transform, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.test.{ts,tsx}'] },
    // real Chromium through playwright-core, from node
    { ...base, transform, displayName: 'browser', testEnvironment: 'node', setupFilesAfterEnv: [], testMatch: ['<rootDir>/tests/**/*.test.ts'] },
  ],
};
