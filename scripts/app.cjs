// The cdk8s app command (cdk8s.yaml `app`, `npm run synth`): runs main.ts as a cached esbuild
// bundle (see bundle.cjs), passing arguments through.
'use strict';
const path = require('node:path');
const { ensureBundle, root } = require('./bundle.cjs');

require(ensureBundle(path.join(root, 'main.ts'), path.join(root, 'build', 'main.js')));
