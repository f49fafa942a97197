#!/usr/bin/env node
'use strict';
// `foresight` as npm links it (npx foresight …): in a clone, compiles the sidecar first when
// sidecar/src is newer than sidecar/dist (and says so on stderr), then runs the CLI.
const { ensureBuilt } = require('./build');

if (ensureBuilt(['contract', 'sidecar'])) require('../dist/main.js');
else process.exitCode = 1;
