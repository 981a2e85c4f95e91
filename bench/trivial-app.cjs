// cdk8s `app` command for the trivial baseline chart (see bench/trivial-chart.ts).
'use strict';
const path = require('node:path');
const { runBundled } = require('../scripts/app.cjs');

runBundled(path.join(__dirname, 'trivial-chart.ts'), path.join(__dirname, '..', 'build', 'trivial.js'));
