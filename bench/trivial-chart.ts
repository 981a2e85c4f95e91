// The baseline for `npm run bench`: the smallest cdk8s app (one chart, one ConfigMap),
// synthesized the same way as ours (cdk8s-cli -> esbuild bundle -> App.synth into CDK8S_OUTDIR).
import { App, Chart } from 'cdk8s';
import { KubeConfigMap } from 'cdk8s-plus-28/lib/imports/k8s';

const app = new App();
const chart = new Chart(app, 'trivial');
new KubeConfigMap(chart, 'cm', { metadata: { name: 'trivial' }, data: { a: 'b' } });
app.synth();
