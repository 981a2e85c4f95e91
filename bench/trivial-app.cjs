// cdk8s `app` command for the trivial baseline chart (see bench/trivial-chart.ts), run the same
// way as ours (scripts/app.cjs).
'use strict';
const path = require('node:path');
const { ensureBundle, root } = require('../scripts/bundle.cjs');

require(ensureBundle(path.join(root, 'bench', 'trivial-chart.ts'), path.join(root, 'build', 'trivial.js')));
